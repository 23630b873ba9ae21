"""Our version of what ``deepaas-test-v2-v3`` compares (ai4os/DEEPaaS, branch v3-fastapi,
``deepaas/cmd/deepaas_test_v2_v3.py``: ``compare_endpoints`` and ``test_endpoint``).

The public tool reads ``/swagger.json`` of an old and a new server, takes the paths both
document (it drops ``/v2/models/NAME/train`` from the old set, and only prints the paths that
either lacks), then sends every common path, as the document writes it (``{uuid}`` included),
a bare GET, POST, PUT and DELETE: no query, no body. A method both answer 405 passes; otherwise
the status codes must be equal, and for a 2xx the JSON bodies must be equal.

It is not on the package registry (deepaas's last release there is 2.6.0), so it cannot be
installed and run here; these helpers do the same against the answers of 2.6.0 recorded by
``record_v2v3.py`` (``tests/clients/reference/v2v3_NAME.json``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["METHODS", "bare_cases", "case_name", "compare_paths", "same_answer"]

METHODS = ("GET", "POST", "PUT", "DELETE")


def compare_paths(old: dict[str, Any], new: dict[str, Any],
                  model: str) -> tuple[list[str], list[str], list[str]]:
    """``compare_endpoints``: (paths both document, paths only the old one has, paths only the
    new one has), each sorted."""
    old_paths = set(old["paths"]) - {"/v2/models/%s/train" % model}
    new_paths = set(new["paths"])
    return (sorted(old_paths & new_paths), sorted(old_paths - new_paths),
            sorted(new_paths - old_paths))


def case_name(method: str, path: str) -> str:
    return "%s %s" % (method, path)


def bare_cases(paths: list[str]) -> list[dict[str, Any]]:
    """The tool's requests, in a fixed order (it walks a set): every path, every method.
    Braces are sent percent-encoded and ``Accept: */*`` is sent, as the tool's HTTP client
    (requests) sends them."""
    return [{"name": case_name(method, path), "method": method,
             "path": path.replace("{", "%7B").replace("}", "%7D"),
             "headers": {"Accept": "*/*"}}
            for path in paths for method in METHODS]


def same_answer(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """``test_endpoint`` on two answers reduced by ``tests.compat.answers.reduce``. Where the
    tool parses a 2xx body as JSON and fails on one that is not (a 204 has none), the media
    type and length are compared instead."""
    if old["status"] == new["status"] == 405:
        return True
    if old["status"] != new["status"]:
        return False
    if not 200 <= old["status"] < 300:
        return True
    return bool(old["type"] == new["type"] and old["body"] == new["body"])

"""Replay the compat cases against our app and compare with the reference's recorded answers.

The answers of DEEPaaS 2.6.0 were recorded with ``record_reference.py`` serving the module in
``tests/compat/compatmod`` (a module written only against the contract), and with
``corpus/record.sh`` serving each fixture of ``tests/compat/corpus`` (modules declaring the
same interfaces as public DEEPaaS modules; ``corpus/MIRRORS.md`` says which). Every answer
must match, except the cases named "DIFFER intended" (a reference bug the contract tells us to
fix, or an intended improvement): each of those says what we answer instead (its "ours": status,
media type and body), and that is asserted here; test_corpus_*.py check them in more detail.
"""

from __future__ import annotations

import json
import mimetypes
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from deepaas.config import Settings
from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper
from tests.compat.answers import covers, intended_difference, reduce

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"
pytest.importorskip("compatmod", reason="make test installs tests/compat/compatmod")
pytest.importorskip("deepaas_corpus", reason="make test installs tests/compat/corpus")


def _entry_points() -> dict[str, str]:
    group = metadata.entry_points(group="deepaas.v2.model")
    return {ep.name: ep.value for ep in group}


def _suites() -> dict[str, tuple[Path, Path, Path]]:
    """Model name -> (cases, recorded answers, recorded swagger.json)."""
    suites = {name: (HERE / ("cases_%s.json" % name), HERE / ("reference_%s.json" % name),
                     HERE / ("reference_swagger_%s.json" % name))
              for name in ("compatmod", "compatcls")}
    for cases in sorted((CORPUS / "cases").glob("*.json")):
        name = cases.stem
        suites[name] = (cases, CORPUS / "reference" / cases.name,
                        CORPUS / "reference" / ("swagger_" + cases.name))
    return suites


SUITES = _suites()
SOURCES = _entry_points()


def _cases() -> list[Any]:
    params = []
    for name, (cases_file, answers_file, _) in SUITES.items():
        cases = json.loads(cases_file.read_text())
        answers = json.loads(answers_file.read_text())
        for case in cases:
            # where we differ on purpose, the case says what we answer instead ("ours")
            expected = case.get("ours") if intended_difference(case) else answers[case["name"]]
            params.append(pytest.param(name, case, expected,
                                       id="%s: %s" % (name, case["name"])))
    return params


def _request_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"params": [tuple(kv) for kv in case.get("query", [])],
                              "headers": dict(case.get("headers", {})), "allow_redirects": False}
    if case.get("files") or case.get("form"):
        form = aiohttp.FormData()
        for key, value in case.get("form", {}).items():
            form.add_field(key, str(value))
        for key, path in case.get("files", {}).items():
            form.add_field(key, (ROOT / path).read_bytes(), filename=Path(path).name,
                           content_type=mimetypes.guess_type(path)[0] or "application/octet-stream")
        kwargs["data"] = form
    elif "json" in case:
        kwargs["data"] = json.dumps(case["json"])
        kwargs["headers"]["Content-Type"] = "application/json"
    return kwargs


@pytest.mark.parametrize("model, case, reference", _cases())
async def test_answer_matches_reference(serve, model, case, reference):
    """The reference's recorded answer, or for an intended difference our own ("ours")."""
    source = SOURCES[model]
    client = await serve(Registry.of(ModelWrapper(model, resolve(source), source)))
    # the path may hold repeated slashes: send it as it is written
    url = client.make_url("/").with_path(case["path"], encoded=True)
    resp = await client.session.request(case.get("method", "GET"), url, **_request_kwargs(case))
    ours = reduce(resp.status, resp.headers.get("Content-Type", ""), await resp.read())
    assert reference is not None, "an intended difference must say what we answer: 'ours'"
    assert covers(reference, ours), "reference %s\nours      %s" % (reference, ours)


def _valid_swagger(param: dict[str, Any]) -> dict[str, Any]:
    """The reference's parameter as Swagger 2.0 allows it: a file argument that names no
    location is ``in: query`` there, but ``type: file`` exists only in form data, where both
    servers read it from (an intended difference, tested in tests/api/test_locations.py)."""
    if param.get("type") == "file" and param.get("in") == "query":
        return {**param, "in": "formData"}
    return param


@pytest.mark.parametrize("model", list(SUITES))
def test_spec_parameters_match_reference(model):
    from deepaas.api.spec import swagger

    source = SOURCES[model]
    ours = swagger(Settings(), Registry.of(ModelWrapper(model, resolve(source), source)))
    ref = json.loads(SUITES[model][2].read_text())
    for path, operations in ref["paths"].items():
        for method, op in operations.items():
            mine = ours["paths"][path][method]
            # ours may add parameters after the reference's (list filters), and extension keys
            # (x-deepaas-...) to a parameter
            reference_params = [_valid_swagger(p) for p in op.get("parameters", [])]
            assert covers(reference_params, mine["parameters"][:len(reference_params)]), (
                path, method, reference_params, mine["parameters"])
            assert mine.get("produces") == op.get("produces"), (path, method)
            assert mine["tags"] == op["tags"] and mine["summary"] == op["summary"]

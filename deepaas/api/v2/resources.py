"""``GET /v2/resources/``: what trainings can ask for (``DEEPaaS-Resources``), and what is free.

The answer::

    {"executor": "local",
     "nodes": [{"name": "host", "site": "lab",
                "cpus": {"total": 8, "free": 7, "ids": [0, ..., 7], "free_ids": [1, ..., 7]},
                "gpus": {"total": 1, "free": 1, "free_ids": [0],
                         "devices": [{"id": 0, "model": "NVIDIA H200", "memory": 150...}]},
                "memory": {"total": 33..., "free": 33...},
                "trainings": {"<uuid>": {"node": "host", "site": "lab", "cpus": [0]}}}],
     "totals": {"cpus": {"total": 8, "free": 7}, "gpus": {...}, "memory": {...}},
     "sites": ["lab"]}

Memory is in bytes. ``nodes`` is what the executor's capacity reports (none for an executor
that places trainings itself and reports nothing); ``sites`` are the names a training's
``site=`` may take. The route is public; where API keys are set, a node's ``trainings`` (ids
and placements) are shown only to a request that sends one.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from deepaas.api.keys import API_KEYS, JOBS
from deepaas.api.render import json_response

__all__ = ["get_resources", "overview", "KINDS"]

KINDS = ("cpus", "gpus", "memory")


def overview(executor: str, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer of ``/v2/resources/`` for these nodes (as ``Capacity.nodes()`` gives them)."""
    totals = {kind: {"total": sum(n[kind]["total"] for n in nodes),
                     "free": sum(n[kind]["free"] for n in nodes)} for kind in KINDS}
    # An unnamed site cannot be asked for (site= must name one): only named ones are offered.
    sites = sorted({n["site"] for n in nodes if n["site"]})
    return {"executor": executor, "nodes": nodes, "totals": totals, "sites": sites}


async def get_resources(request: web.Request) -> web.Response:
    jobs = request.app[JOBS]
    nodes = jobs.capacity.nodes()
    if not request.app[API_KEYS].admits(request):  # what runs where, and its ids: keyed
        nodes = [{k: v for k, v in node.items() if k != "trainings"} for node in nodes]
    return json_response(overview(jobs.executor_name, nodes))

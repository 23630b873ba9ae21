"""Health probes on the Open Inference Protocol's paths (Kubernetes, KServe tools).

``/v2/health/live``: the process answers. ``/v2/health/ready``: every model is warm, the
server is not stopping and its job store can be written. ``/v2/models/NAME/ready``: that model
is warm. 200 or 503. Their routes are declared in :mod:`deepaas.api.routes`.
"""

from __future__ import annotations

from aiohttp import web

from deepaas.api.keys import JOB_STORE, PREDICTIONS, REGISTRY, STATE
from deepaas.api.render import json_response
from deepaas.model.wrapper import ModelWrapper

__all__ = ["live", "ready", "model_ready"]


async def live(request: web.Request) -> web.Response:
    return json_response({"live": True})


def _why_not(request: web.Request, names: list[str]) -> str | None:
    if request.app[STATE].stopping:
        return "the server is stopping"
    predictions = request.app[PREDICTIONS]
    for name in names:
        line = predictions.line(name)
        if line.failure is not None:
            return "model %s failed to start: %s" % (name, line.failure.message)
        if not line.ready:
            return "model %s is warming up" % name
    return None


async def ready(request: web.Request) -> web.Response:
    reason = _why_not(request, request.app[REGISTRY].names())
    problem = request.app[JOB_STORE].problem
    if reason is None and problem is not None:  # the server's, not a model's: not per model
        reason = "the job store cannot be written: %s" % problem
    if reason is None:
        return json_response({"ready": True})
    return json_response({"ready": False, "message": reason}, status=503)


async def model_ready(request: web.Request, model: ModelWrapper) -> web.Response:
    reason = _why_not(request, [model.name])
    body = {"name": model.name, "ready": reason is None}
    if reason is not None:
        body["message"] = reason
    return json_response(body, status=200 if reason is None else 503)


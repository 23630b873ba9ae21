"""``GET /metrics``: Prometheus metrics of this server."""

from __future__ import annotations

from aiohttp import web

from deepaas.api.keys import JOBS, METRICS, PREDICTIONS, REMOTE

__all__ = ["get_metrics"]


async def get_metrics(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    snapshot = metrics.snapshot
    lines = request.app[PREDICTIONS].lines()
    snapshot.queues = {name: line.waiting for name, line in lines.items()}
    snapshot.restarts = {name: line.runner.restarts for name, line in lines.items()}
    snapshot.trainings = await request.app[JOBS].counts()
    remote = request.app[REMOTE]
    snapshot.remote = {"download": remote.downloads, "cache": remote.hits}
    snapshot.nodes = request.app[JOBS].capacity.nodes()
    return metrics.render()


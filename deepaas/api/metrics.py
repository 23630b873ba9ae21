"""Prometheus metrics at ``GET /metrics``, through prometheus-client, one registry per app.

On the hot path only a counter and, for predictions, a histogram are updated (label children
are looked up once and cached); queue depths, trainings by status, worker restarts and the
executor's resources (as ``/v2/resources/`` shows them) are read when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    5.0, 10.0, 30.0, 60.0)


class _Snapshot(Collector):
    """Values read at scrape time, refreshed by the /metrics handler just before."""

    def __init__(self) -> None:
        self.queues: dict[str, int] = {}
        self.restarts: dict[str, int] = {}
        self.trainings: dict[tuple[str, str], int] = {}
        self.remote: dict[str, int] = {}  # remote file arguments: downloads and cache hits
        self.nodes: list[dict[str, Any]] = []  # the executor's nodes, as /v2/resources/ lists

    def collect(self) -> Iterator[Any]:
        queue = GaugeMetricFamily("deepaas_queue_depth", "Predictions waiting, per model",
                                  labels=["model"])
        for model, depth in self.queues.items():
            queue.add_metric([model], depth)
        restarts = CounterMetricFamily("deepaas_worker_restarts",
                                       "Worker processes replaced after dying, per model",
                                       labels=["model"])
        for model, count in self.restarts.items():
            restarts.add_metric([model], count)
        trainings = GaugeMetricFamily("deepaas_trainings", "Trainings by model and status",
                                      labels=["model", "status"])
        for (model, status), count in self.trainings.items():
            trainings.add_metric([model, status], count)
        remote = CounterMetricFamily("deepaas_remote_files",
                                     "File arguments given as URLs: downloaded, or read from "
                                     "the cache", labels=["source"])
        for source, count in self.remote.items():
            remote.add_metric([source], count)
        yield from (queue, restarts, trainings, remote)
        yield from _resources(self.nodes)


_RESOURCES = (("cpus", "deepaas_resources_cpus", "CPUs of a node trainings run on"),
              ("gpus", "deepaas_resources_gpus", "GPUs of a node trainings run on"),
              ("memory", "deepaas_resources_memory_bytes", "Memory of a node trainings run on"))


def _resources(nodes: list[dict[str, Any]]) -> Iterator[GaugeMetricFamily]:
    """Per node and site: the total and what no training holds (state="total" or "free")."""
    for kind, name, text in _RESOURCES:
        gauge = GaugeMetricFamily(name, text + ": total, and free (held by no training)",
                                  labels=["node", "site", "state"])
        for node in nodes:
            for state in ("total", "free"):
                gauge.add_metric([node["name"], node["site"], state], node[kind][state])
        yield gauge


class Metrics:
    """The app's metrics: request counts, prediction latency, and the scrape-time values."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter("deepaas_requests", "HTTP requests answered",
                                 ["route", "method", "status"], registry=self.registry)
        self._latency = Histogram("deepaas_prediction_duration_seconds",
                                  "Time to answer a prediction, per model", ["model"],
                                  buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.snapshot = _Snapshot()
        self.registry.register(self.snapshot)
        self._children: dict[tuple[str, str, int], Any] = {}
        self._latencies: dict[str, Any] = {}

    def request(self, route: str, method: str, status: int) -> None:
        key = (route, method, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._requests.labels(route, method, str(status))
        child.inc()

    def prediction(self, model: str, seconds: float) -> None:
        child = self._latencies.get(model)
        if child is None:
            child = self._latencies[model] = self._latency.labels(model)
        child.observe(seconds)

    def render(self) -> web.Response:
        return web.Response(body=generate_latest(self.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

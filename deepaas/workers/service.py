"""Every served model's prediction line, built from the Settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from deepaas.cluster.connection import RayConnection
from deepaas.config import Settings
from deepaas.model.outputs import Answer
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.dispatch import Batching, Dispatcher, Runner
from deepaas.workers.processes import ProcessRunner
from deepaas.workers.threads import ThreadRunner

__all__ = ["Predictions"]


def _batching(model: ModelWrapper, settings: Settings) -> Batching | None:
    if not model.batches:
        return None
    size, delay_ms = model.batch_limits()
    return Batching(size=size or settings.max_batch_size,
                    delay=(settings.max_batch_delay_ms if delay_ms is None else delay_ms) / 1000)


def _runner(model: ModelWrapper, settings: Settings, ray: RayConnection | None) -> Runner:
    if settings.predict_executor == "ray" and ray is not None:
        from deepaas.cluster.predicting import RayRunner

        return RayRunner(model, settings.workers, ray, warm=settings.warm,
                         cpus=settings.ray_cpus, gpus=settings.ray_gpus,
                         memory=settings.ray_memory)
    if settings.isolate:
        return ProcessRunner(model, settings.workers, warm=settings.warm)
    return ThreadRunner(model, settings.workers, warm=settings.warm)


class Predictions:
    """One :class:`Dispatcher` per model: threads by default, processes with ``--isolate``,
    Ray actors with ``--predict-executor ray`` (over ``ray``, the server's connection)."""

    def __init__(self, models: list[ModelWrapper], settings: Settings,
                 ray: RayConnection | None = None) -> None:
        self._lines = {m.name: self._dispatcher(m, settings, ray) for m in models}

    @staticmethod
    def _dispatcher(model: ModelWrapper, settings: Settings,
                    ray: RayConnection | None) -> Dispatcher:
        runner = _runner(model, settings, ray)
        batching = _batching(model, settings)
        direct = isinstance(runner, ThreadRunner) and model.predict_is_async and batching is None
        return Dispatcher(model, runner, max_queue=settings.max_queue,
                          timeout=settings.predict_timeout, batching=batching, direct=direct)

    def line(self, name: str) -> Dispatcher:
        return self._lines[name]

    async def start(self) -> None:
        """Warm every model where it will predict (threads' process, or each worker).

        The server already listens meanwhile: probes and metadata answer, predictions wait.
        """
        for line in self._lines.values():
            await line.start()

    def lines(self) -> dict[str, Dispatcher]:
        return dict(self._lines)

    @property
    def ready(self) -> bool:
        return all(line.ready for line in self._lines.values())

    async def close(self) -> None:
        await asyncio.gather(*(line.close() for line in self._lines.values()),
                             return_exceptions=True)

    async def predict(self, model: ModelWrapper, kwargs: dict[str, Any], accept: str | None,
                      release: Callable[[], None] | None = None) -> Answer:
        answer = await self._lines[model.name].predict(kwargs, accept, release)
        model.report_nulled(answer)
        return answer

    async def metadata(self, model: ModelWrapper) -> dict[str, Any]:
        """``get_metadata()`` off the event loop (it may read files)."""
        return await asyncio.to_thread(model.metadata)

"""Every served model's prediction line, from a runner factory and a few typed options.

The app factory (``deepaas.api.app``) chooses where model code runs (threads, worker
processes with ``--isolate``, or Ray actors) and hands over a :data:`RunnerFactory`; nothing
here reads the Settings or knows of the cluster.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from deepaas.model.outputs import Answer
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.dispatch import Batching, Dispatcher, Runner

__all__ = ["PredictOptions", "Predictions", "RunnerFactory"]

RunnerFactory = Callable[[ModelWrapper], Runner]
"""The runner of one model's predictions (its workers, warmed where they run)."""


@dataclasses.dataclass(frozen=True)
class PredictOptions:
    """What the prediction lines need to know of the server's settings."""

    max_queue: int = 128  # predictions of one model that may wait
    timeout: float = 0.0  # seconds a prediction may take (0: no limit)
    batch_size: int = 32  # for modules with predict_batch that set no max_batch_size
    batch_delay_ms: float = 5.0  # ... and no max_batch_delay_ms

    def batching(self, model: ModelWrapper) -> Batching | None:
        """How ``model`` gathers requests: its own limits, else these; None: no predict_batch."""
        if not model.batches:
            return None
        size, delay_ms = model.batch_limits()
        return Batching(size=size or self.batch_size,
                        delay=(self.batch_delay_ms if delay_ms is None else delay_ms) / 1000)


class Predictions:
    """One :class:`Dispatcher` per model, each over the runner ``runners`` makes for it."""

    def __init__(self, models: list[ModelWrapper], runners: RunnerFactory,
                 options: PredictOptions) -> None:
        self._lines = {m.name: self._dispatcher(m, runners(m), options) for m in models}

    @staticmethod
    def _dispatcher(model: ModelWrapper, runner: Runner, options: PredictOptions) -> Dispatcher:
        batching = options.batching(model)
        direct = runner.local and model.predict_is_async and batching is None
        return Dispatcher(model, runner, max_queue=options.max_queue, timeout=options.timeout,
                          batching=batching, direct=direct)

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
                      release: Callable[[], None] | None = None, stop: bool = False) -> Answer:
        """One prediction in ``model``'s line (:meth:`Dispatcher.predict`)."""
        answer = await self._lines[model.name].predict(kwargs, accept, release, stop)
        model.report_nulled(answer)
        return answer

    async def metadata(self, model: ModelWrapper) -> dict[str, Any]:
        """``get_metadata()`` off the event loop (it may read files)."""
        return await asyncio.to_thread(model.metadata)

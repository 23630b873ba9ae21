"""What worker processes (``--isolate``) and Ray actors share: a pool of warmed workers that
take one request at a time, where a dead one costs its request and is replaced."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Generic, TypeVar

from deepaas.exceptions import WorkerCrashed
from deepaas.model.streams import Chunk
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.held import hold_streams
from deepaas.workers.messages import Call, Close, Error, Outcome, Pull, Result, outcomes

__all__ = ["WorkerPool"]

LOG = logging.getLogger(__name__)
W = TypeVar("W")


class WorkerPool(Generic[W]):
    """``workers`` warmed workers for one model. Subclasses say how a worker is started,
    called, asked for stream items and killed; a call whose worker died raises
    :class:`WorkerCrashed` from ``_call`` (and ``_exchange``).
    """

    def __init__(self, model: ModelWrapper, workers: int) -> None:
        if model.source is None:
            raise ValueError("model %r has no import reference to start workers from"
                             % model.name)
        self.model = model
        self.capacity = workers
        self.restarts = 0
        self.local = False  # model code runs in other processes
        self._free: asyncio.Queue[W] = asyncio.Queue()
        self._busy: dict[asyncio.Task[Any], W] = {}
        self._spares: set[asyncio.Task[None]] = set()

    async def _spawn(self) -> W:
        raise NotImplementedError

    async def _call(self, worker: W, calls: list[Call]) -> list[Outcome]:
        raise NotImplementedError

    async def _exchange(self, worker: W, message: Pull | Close) -> list[Chunk | Error | None]:
        """Ask a worker for the next item of one of its streams, or to close it."""
        raise NotImplementedError

    def _kill(self, worker: W) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        for worker in await asyncio.gather(*(self._spawn() for _ in range(self.capacity))):
            self._free.put_nowait(worker)

    def _replace(self) -> None:
        """Start and warm a worker in place of one that died, in the background."""
        async def spare() -> None:
            try:
                self._free.put_nowait(await self._spawn())
                self.restarts += 1
            except Exception:
                LOG.exception("could not replace a worker of model %s", self.model.name)
        task = asyncio.create_task(spare())
        self._spares.add(task)
        task.add_done_callback(self._spares.discard)

    async def run(self, calls: list[Call]) -> list[Result]:
        """Send the calls to a free worker; a worker that dies answers WorkerCrashed."""
        worker = await self._free.get()
        task = asyncio.current_task()
        assert task is not None
        self._busy[task] = worker
        try:
            replies = await self._call(worker, calls)
        except WorkerCrashed as exc:
            LOG.error("model %s: %s", self.model.name, exc.message)
            self._replace()
            raise
        finally:
            self._busy.pop(task, None)
        # A worker whose answers stream stays held until each stream is over.
        return hold_streams(outcomes(replies), functools.partial(self._exchange, worker),
                            free=functools.partial(self._free.put_nowait, worker),
                            kill=functools.partial(self._kill, worker), replace=self._replace)

    def abandon(self, task: asyncio.Task[Any]) -> None:
        """A timed-out call: kill its worker (it is replaced, warmed again)."""
        worker = self._busy.get(task)
        if worker is not None:
            self._kill(worker)

    def _stop_spares(self) -> None:
        for task in list(self._spares):
            task.cancel()

"""Predictions on threads of the server process, where ``warm()`` ran (the default)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from typing import Any

from deepaas.model.streams import served_locally
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.messages import Call, Result

__all__ = ["ThreadRunner"]


class ThreadRunner:
    """``workers`` threads for one model; a coroutine ``predict`` runs on the event loop."""

    def __init__(self, model: ModelWrapper, workers: int, warm: bool = True) -> None:
        self.model = model
        self.capacity = workers
        self.restarts = 0  # threads are never replaced
        self.local = True  # a coroutine predict can be awaited on the server's event loop
        self._warm = warm
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="deepaas-%s" % model.name)

    async def _in_pool(self, func: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(func, *args))

    async def start(self) -> None:
        if self._warm:
            await self._in_pool(self.model.warm)

    async def run(self, calls: list[Call]) -> list[Result]:
        """One answer or error per call: ``predict_batch`` once for a module that has it,
        else ``predict`` (a coroutine one on the event loop) for each. A generator returned
        is stepped on these threads (an async one on the event loop) as it is read."""
        return [served_locally(one, self.model, self._pool) for one in await self._run(calls)]

    async def _run(self, calls: list[Call]) -> list[Result]:
        pairs = [(call.kwargs, call.accept) for call in calls]
        if self.model.batches:
            return await self._in_pool(self.model.predict_many, pairs)
        if len(calls) > 1:
            return await self._in_pool(self.model.predict_each, pairs)
        (call,) = calls
        if self.model.predict_is_async:
            return [await self.model.apredict(call.kwargs, call.accept)]
        return [await self._in_pool(self.model.predict, call.kwargs, call.accept)]

    def abandon(self, task: asyncio.Task[Any]) -> None:
        """A timed-out call: a thread cannot be stopped, so it runs to its end."""

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

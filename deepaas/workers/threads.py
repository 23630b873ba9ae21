"""Predictions on a thread pool inside the server process, where ``warm()`` ran."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from deepaas.model.outputs import Answer
from deepaas.model.wrapper import ModelWrapper

__all__ = ["ThreadExecution"]

T = TypeVar("T")


class ThreadExecution:
    """Runs module code on ``workers`` threads; coroutine ``predict``s are awaited directly."""

    def __init__(self, workers: int) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="deepaas-model")

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(func, *args, **kwargs))

    async def predict(self, model: ModelWrapper, kwargs: dict[str, Any],
                      accept: str | None) -> Answer:
        if model.predict_is_async:
            return await model.apredict(kwargs, accept)
        return await self.run(model.predict, kwargs, accept)

    async def warm(self, model: ModelWrapper) -> None:
        await self.run(model.warm)

    async def metadata(self, model: ModelWrapper) -> dict[str, Any]:
        return await self.run(model.metadata)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

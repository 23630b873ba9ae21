"""Stopping without dropping a request.

When the server is asked to stop it no longer accepts connections, and the requests in flight
get ``--shutdown-timeout`` seconds to finish. Those still running then are cancelled and
answered 503 ``{"message": "the server is stopping"}`` with ``Retry-After``: every client gets
an answer it can act on (a load balancer retries elsewhere), not a connection closed under it.

The edge middleware (:mod:`deepaas.api.observe`) marks each request in flight here; the
deadline starts when aiohttp begins its shutdown (``on_shutdown``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from deepaas.api.errors import to_response
from deepaas.api.keys import STATE
from deepaas.exceptions import ServerStopping

__all__ = ["Draining"]


class Draining:
    """The requests in flight, and the deadline they get once the server stops."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.expired = False
        self._running: dict[asyncio.Task[Any], web.BaseRequest] = {}
        self._cut: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None

    async def begin(self, app: web.Application) -> None:
        """The server stops (aiohttp's ``on_shutdown``): start counting down."""
        app[STATE].stopping = True  # the probes say so, log followers end their streams
        self._timer = asyncio.get_running_loop().call_later(self.timeout, self._expire)

    async def end(self, app: web.Application) -> None:
        """Everything has stopped (``on_cleanup``)."""
        if self._timer is not None:
            self._timer.cancel()

    def enter(self, request: web.BaseRequest) -> asyncio.Task[Any] | None:
        """A request starts; answer its task, for :meth:`leave` and :meth:`was_cut`."""
        task = asyncio.current_task()
        if task is not None:
            self._running[task] = request
        return task

    def leave(self, task: asyncio.Task[Any] | None) -> None:
        if task is not None:
            self._running.pop(task, None)
            self._cut.discard(task)

    def was_cut(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether the cancellation its request's task just got is ours (the deadline), not a
        client that went away; if so the task goes on, to send the 503."""
        if task is None or task not in self._cut:
            return False
        uncancel = getattr(task, "uncancel", None)  # Python 3.11+: count the cancel handled
        if uncancel is not None:
            uncancel()
        return True

    @staticmethod
    def answer() -> web.Response:
        """What a request cut off by the deadline (or arriving after it) gets."""
        return to_response(ServerStopping())

    def _expire(self) -> None:
        self.expired = True
        for task, request in list(self._running.items()):
            # A streamed answer that has begun cannot become a 503: its connection closes.
            if not request.writer.output_size:
                self._cut.add(task)
            task.cancel()

"""Streams read from a pooled worker (a worker process, a Ray actor).

A worker whose answers stream is held: no other call goes to it until each of those streams
is over (ended, failed, or closed by the server when its client left). Then it is free
again; a worker killed because a step took too long is replaced instead.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from deepaas.exceptions import DeepaasError
from deepaas.model.streams import Chunk
from deepaas.workers.messages import Answer, Close, Error, Pull

__all__ = ["Hold", "PooledStream", "hold_streams"]

Replies = list[Chunk | Error | None]  # a Pull's items; the last may be the end or the error
Exchange = Callable[[Pull | Close], Awaitable[Replies]]


class Hold:
    """A worker held by ``count`` streams: ``free`` gives it back after the last one. A worker
    that died (``lost``) or was killed for a late step (``kill``) is replaced instead, once."""

    def __init__(self, count: int, free: Callable[[], None], kill: Callable[[], None],
                 replace: Callable[[], None]) -> None:
        self._count = count
        self._free, self._kill, self._replace = free, kill, replace
        self._gone = False

    def one_over(self) -> None:
        self._count -= 1
        if self._count == 0 and not self._gone:
            self._free()

    def lost(self) -> None:
        if not self._gone:
            self._gone = True
            self._replace()

    def kill(self) -> None:
        if not self._gone:
            self._gone = True
            self._kill()
            self._replace()


class PooledStream:
    """The server's side of the worker's stream number ``number``."""

    def __init__(self, number: int, exchange: Exchange, hold: Hold) -> None:
        self._number = number
        self._exchange = exchange
        self._hold = hold
        self._over = False
        self._came: collections.deque[Chunk | Error | None] = collections.deque()

    def _end(self) -> None:
        if not self._over:
            self._over = True
            self._hold.one_over()

    async def next(self) -> Chunk | None:
        if not self._came:
            if self._over:
                return None
            try:  # what the worker made since the last ask (at least one)
                self._came.extend(await self._exchange(Pull(self._number)))
            except DeepaasError:  # the worker died: it is being replaced
                self._hold.lost()
                self._end()
                raise
        reply = self._came.popleft()
        if isinstance(reply, Error):
            self._end()
            raise reply.exception()
        if reply is None:
            self._end()
        return reply

    async def aclose(self) -> None:
        self._came.clear()
        if self._over:
            return
        try:
            await self._exchange(Close(self._number))
        except DeepaasError:
            self._hold.lost()
        finally:
            self._end()

    def abandon(self) -> None:
        if not self._over:
            self._hold.kill()
            self._end()


def hold_streams(answers: list[Any], exchange: Exchange, free: Callable[[], None],
                 kill: Callable[[], None], replace: Callable[[], None]) -> list[Any]:
    """The answers of one call to a worker, each stream number now a :class:`PooledStream`;
    ``free`` is called at once when none streams, else after the last is over."""
    count = sum(isinstance(a, Answer) and a.stream is not None for a in answers)
    if not count:
        free()
        return answers
    hold = Hold(count, free, kill, replace)
    return [dataclasses.replace(a, stream=PooledStream(a.stream, exchange, hold))
            if isinstance(a, Answer) and a.stream is not None else a for a in answers]

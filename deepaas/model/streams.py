"""Streamed answers: a ``predict`` that returns a generator sends its items as they come.

A module's ``predict`` may return (or be) a generator, an iterator, or an async generator, or
be a coroutine that returns one of those. Its answer is then streamed: each item is sent once
it is produced, and the next one is asked for only when the client took the last (a slow
client pauses the generator instead of filling memory).

Each item becomes a :class:`Chunk`: ``bytes`` go as they are (a binary stream), any other
value as one JSON text by the rules of :mod:`deepaas.model.outputs`. The first item decides
the kind of the whole stream; an item of the other kind afterwards is an error.

An :class:`ItemStream` is how the server reads a stream, wherever it is produced: here
(:class:`LocalStream`: a generator stepped on a thread, or an async one on the event loop), in
a worker process or on a Ray actor (``deepaas.workers``). :func:`gather` waits for a whole
stream and makes it one plain answer (asynchronous predictions keep that).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

from deepaas.exceptions import DeepaasError, ModelError, PredictTimeout
from deepaas.model.outputs import JSON_TYPES, Answer, encode
from deepaas.model.pump import Pump

__all__ = ["Chunk", "ItemStream", "Kind", "LocalStream", "Timed", "chunk_of", "gather",
           "is_stream", "served_locally", "close_later", "Releasing", "NDJSON", "BINARY"]

NDJSON = "application/x-ndjson"
BINARY = "application/octet-stream"
_NOT_STREAMS = (str, bytes, bytearray, memoryview, dict, list, tuple, set, frozenset)


def is_stream(value: Any) -> bool:
    """Whether a ``predict`` return value is to be streamed item by item.

    Generators, async generators and other iterators are; open files (iterators of lines,
    but answered whole as bytes) and containers are not.
    """
    if isinstance(value, _NOT_STREAMS) or hasattr(value, "read"):
        return False
    if inspect.isgenerator(value) or inspect.isasyncgen(value):
        return True
    return isinstance(value, (Iterator, AsyncIterator))


@dataclasses.dataclass(frozen=True)
class Chunk:
    """One item of a stream, ready to send: ``raw`` bytes the module yielded, else one JSON
    text (never holding a newline)."""

    data: bytes
    raw: bool

    def __reduce__(self) -> tuple[type[Chunk], tuple[bytes, bool]]:
        return Chunk, (self.data, self.raw)  # smaller and faster to pickle than a dict


def chunk_of(model: str, item: Any) -> Chunk:
    """An item a module yielded, as it is sent (:class:`NoJsonForm` when it has no form)."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        return Chunk(bytes(item), True)
    text, _ = encode(item, "Model '%s' predict yielded" % model)
    return Chunk(text.encode("utf-8"), False)


class ItemStream(Protocol):
    """The server's side of a streamed answer."""

    async def next(self) -> Chunk | None:
        """The next item, None once the stream is over; a :class:`DeepaasError` when the
        generator raised (the stream is then over too)."""

    async def aclose(self) -> None:
        """Stop the stream (its generator's ``finally`` runs) and free what produces it."""

    def abandon(self) -> None:
        """A step took too long: stop for good, without waiting for it (a worker process is
        killed and replaced; a thread's step is let finish, then the generator closed)."""


Wrap = Any  # ModelWrapper.wrap_error (or stream_errors), without importing the wrapper here


class Kind:
    """What a stream is made of, told by its first item: every later item must be alike.

    :meth:`step` and :meth:`astep` take the next item of a generator as it is sent, wherever
    the generator runs (the server's threads or loop, a worker, deepaas-cli): None at its end,
    what it raised as the error a client sees (``wrap_error``: ``ModelWrapper.wrap_error``).
    """

    def __init__(self, model: str, wrap_error: Wrap) -> None:
        self._model = model
        self._wrap = wrap_error
        self._raw: bool | None = None

    def _failed(self, exc: Exception) -> DeepaasError:
        return exc if isinstance(exc, DeepaasError) else self._wrap("predict", exc)

    def step(self, source: Iterator[Any]) -> Chunk | None:
        """The next item of a sync generator (called where it may run)."""
        try:
            item = next(source)
        except StopIteration:
            return None
        except Exception as exc:
            raise self._failed(exc) from exc
        return self.chunk(item)

    async def astep(self, source: AsyncIterator[Any]) -> Chunk | None:
        """The next item of an async generator."""
        try:
            item = await source.__anext__()
        except StopAsyncIteration:
            return None
        except Exception as exc:
            raise self._failed(exc) from exc
        return self.chunk(item)

    def chunk(self, item: Any) -> Chunk:
        """``item`` as it is sent; a :class:`ModelError` when it is not of the stream's kind."""
        chunk = chunk_of(self._model, item)
        if self._raw is None:
            self._raw = chunk.raw
        elif chunk.raw is not self._raw:
            raise ModelError("Model '%s' predict yielded %s after %s: a stream is either "
                             "bytes or JSON values" % (self._model,
                                                       "bytes" if chunk.raw else "a value",
                                                       "values" if chunk.raw else "bytes"))
        return chunk


class LocalStream:
    """A generator of this process: a sync one stepped on ``pool``'s threads (the default
    executor when None), a few items ahead of its reader (:mod:`deepaas.model.pump`), an
    async one awaited on the event loop."""

    def __init__(self, model: str, source: Any, wrap_error: Wrap,
                 pool: concurrent.futures.Executor | None = None) -> None:
        self._model = model
        self._pool = pool
        self._async = isinstance(source, AsyncIterator)
        self._source = source if self._async else iter(source)
        self._kind = Kind(model, wrap_error)
        self._pump: Pump | None = None  # steps a sync generator, once it is first read
        self._over = False

    async def next(self) -> Chunk | None:
        if self._over:
            return None
        try:
            if self._async:
                chunk = await self._kind.astep(self._source)
            else:
                if self._pump is None:
                    self._pump = Pump(functools.partial(self._kind.step, self._source),
                                      self._pool, weigh=_weight)
                chunk = await self._pump.get()
        except BaseException:
            self._over = True
            raise
        if chunk is None:
            self._over = True
        return chunk

    async def aclose(self) -> None:
        self._over = True
        if self._pump is not None:  # a generator running on a thread cannot be closed
            with contextlib.suppress(BaseException):
                await self._pump.stop()
        close = getattr(self._source, "aclose" if self._async else "close", None)
        if close is None:
            return
        with contextlib.suppress(Exception):
            if self._async:
                await close()
            else:
                await asyncio.get_running_loop().run_in_executor(self._pool, close)

    def abandon(self) -> None:
        self._over = True
        close_later(self)


def _weight(made: Any) -> int:
    return len(made.data) if isinstance(made, Chunk) else 0


_KEEP: set[asyncio.Future[None]] = set()  # closings under way, referenced until they end


def close_later(stream: ItemStream) -> None:
    """Close ``stream`` in the background (nobody will read it: its client went away)."""
    task = asyncio.ensure_future(stream.aclose())
    _KEEP.add(task)
    task.add_done_callback(_KEEP.discard)


class Releasing:
    """A stream that calls ``release`` once it is over (ended, failed, closed or abandoned):
    what its generator reads (uploaded files) lives as long as it may still read it."""

    def __init__(self, inner: ItemStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    def _done(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    async def next(self) -> Chunk | None:
        try:
            chunk = await self._inner.next()
        except Exception:  # not when cancelled: closing may wait for the step (abandon)
            await self.aclose()
            raise
        if chunk is None:
            await self.aclose()
        return chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._done()

    def abandon(self) -> None:
        self._inner.abandon()
        self._done()


class Timed:
    """A stream whose every step is bounded by ``timeout`` seconds (``--predict-timeout``):
    a late step ends the stream with :class:`PredictTimeout` and abandons what produces it."""

    def __init__(self, inner: ItemStream, timeout: float, model: str) -> None:
        self._inner, self._timeout, self._model = inner, timeout, model

    async def next(self) -> Chunk | None:
        try:
            return await asyncio.wait_for(self._inner.next(), self._timeout)
        except asyncio.TimeoutError:
            self._inner.abandon()
            raise PredictTimeout("Model '%s' took longer than %g s to give its next item"
                                 % (self._model, self._timeout)) from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    def abandon(self) -> None:
        self._inner.abandon()


async def gather(answer: Answer) -> Answer:
    """A streamed answer as one plain answer: the JSON items as the ``predictions`` list of
    the usual envelope, or the bytes joined (the answer's media type, else octet-stream).
    Cancelled, it abandons the stream (a worker process producing it is killed)."""
    stream: ItemStream = answer.stream
    chunks: list[Chunk] = []
    try:
        while (chunk := await stream.next()) is not None:
            chunks.append(chunk)
    except asyncio.CancelledError:  # its client cancelled it: stop it where it can be
        stream.abandon()
        raise
    except BaseException:
        await stream.aclose()
        raise
    await stream.aclose()
    if chunks and chunks[0].raw:
        media = answer.content_type if answer.content_type not in JSON_TYPES else BINARY
        return Answer(b"".join(c.data for c in chunks), media, is_json=False)
    items = b",".join(c.data for c in chunks)
    return Answer(b'{"status": "OK", "predictions": [' + items + b"]}", "application/json",
                  is_json=True)


def served_locally(answer: Any, model: Any, pool: concurrent.futures.Executor | None = None
                   ) -> Any:
    """``answer`` (an Answer, or an error) as the server reads it: a generator ``model``
    returned in this process becomes a :class:`LocalStream` over ``pool``'s threads."""
    if not isinstance(answer, Answer) or answer.stream is None:
        return answer
    return dataclasses.replace(answer, stream=LocalStream(model.name, answer.stream,
                                                          model.stream_errors(answer), pool))

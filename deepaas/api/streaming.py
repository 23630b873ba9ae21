"""Sending a streamed answer as its items come: NDJSON, server-sent events, or raw bytes.

The first item is awaited before anything is sent, so that a generator that fails at once
is an ordinary error answer with its status. From then on the answer is chunked: each item
is written when the module yields it, and the next one is asked for once the last is handed
to the connection (a slow client pauses the generator). A failure later ends the body with
an error the client can read: a last NDJSON line ``{"error": ...}``, an ``event: error``, or,
for raw bytes (which have no place for one), a connection closed before the body's end.
A client that leaves cancels the handler, and the stream is closed (the generator's
``finally`` runs, the worker is free).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Callable

from aiohttp import web

from deepaas.exceptions import DeepaasError
from deepaas.model.outputs import Answer
from deepaas.model.streams import BINARY, NDJSON, Chunk, ItemStream

__all__ = ["EVENTS", "send_stream", "wants_events"]

EVENTS = "text/event-stream"
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy holds items


def wants_events(accept: str) -> bool:
    """Whether an Accept header asks for server-sent events (``text/event-stream``, q > 0)."""
    for item in accept.split(","):
        media, _, params = item.partition(";")
        if media.strip().lower() != EVENTS:
            continue
        quality = "1"
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                quality = value.strip()
        with contextlib.suppress(ValueError):
            return float(quality) > 0
    return False


@dataclasses.dataclass(frozen=True)
class _Format:
    """How items, and a failure after the first, are written in one kind of stream."""

    content_type: str
    item: Callable[[Chunk], bytes]
    error: Callable[[str], bytes] | None  # None: no way to say it in the body


def _error_json(message: str) -> bytes:
    return json.dumps({"error": message}).encode("utf-8")


_NDJSON = _Format(NDJSON, lambda c: c.data + b"\n", lambda m: _error_json(m) + b"\n")
_EVENTS = _Format(EVENTS, lambda c: b"data: " + c.data + b"\n\n",
                  lambda m: b"event: error\ndata: " + _error_json(m) + b"\n\n")


def _format(request: web.Request, answer: Answer, first: Chunk | None) -> _Format:
    if first is not None and first.raw:
        media = BINARY if answer.is_json else answer.content_type
        return _Format(media, lambda c: c.data, None)
    return _EVENTS if wants_events(request.headers.get("Accept", "")) else _NDJSON


async def _close(stream: ItemStream) -> None:
    # Shielded: the handler may be cancelled (its client left) while the stream closes.
    with contextlib.suppress(Exception):
        await asyncio.shield(stream.aclose())


async def send_stream(request: web.Request, answer: Answer,
                      ended: Callable[[], None] | None = None) -> web.StreamResponse:
    """Answer ``request`` with the items of ``answer.stream``; ``ended`` is called once the
    stream is over, however it ended."""
    stream: ItemStream = answer.stream
    try:
        try:
            first = await stream.next()  # a failure here is an ordinary error answer
        except BaseException:
            await _close(stream)
            raise
        form = _format(request, answer, first)
        response = web.StreamResponse(headers={"Content-Type": form.content_type, **_HEADERS})
        response.enable_chunked_encoding()
        try:
            await response.prepare(request)
            await _write_all(request, response, stream, form, first)
        except ConnectionError:  # the client left: nothing more to send
            pass
        finally:
            await _close(stream)
        return response
    finally:
        if ended is not None:
            ended()


async def _write_all(request: web.Request, response: web.StreamResponse,
                     stream: ItemStream, form: _Format, chunk: Chunk | None) -> None:
    while chunk is not None:
        await response.write(form.item(chunk))
        try:
            chunk = await stream.next()
        except DeepaasError as error:
            if form.error is None:  # raw bytes: the client sees the body cut short
                if request.transport is not None:
                    request.transport.close()
                return
            await response.write(form.error(error.message))
            break
    await response.write_eof()

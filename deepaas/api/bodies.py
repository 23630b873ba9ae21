"""Request bodies held in memory (JSON, urlencoded forms, multipart text fields): their limit,
the server-wide budget of bytes held at once, and doing the heavy work on big ones off the loop.

Uploads (multipart files) stream to disk and are bounded by ``--client-max-size`` only; what is
read into memory is bounded three ways:

* per body, by the smallest of ``--max-json-size``, ``--client-max-size`` and
  ``--max-buffered``: larger is answered 413, naming the option that bound it;
* all requests together, by ``--max-buffered``: a body that would pass it is answered 503 with
  Retry-After before it is read (waiting instead would keep the client's connection and our
  buffers busy for a budget that may not come back soon);
* in time: parsing and validating a big body runs in a thread, so the event loop keeps
  answering (health probes included) while a long list is checked item by item.
"""

from __future__ import annotations

import asyncio
import json
import json.scanner
from collections.abc import Callable
from typing import Any, TypeVar

from deepaas.config import Settings
from deepaas.exceptions import Overloaded, PayloadTooLarge

__all__ = ["BodyBudget", "Held", "OFF_LOOP_BYTES", "body_limit", "decode_json"]

T = TypeVar("T")

#: Bodies from this size on are parsed, and their arguments validated, in a thread. Below it
#: the hop to a thread (about 70 us, twice) costs more than the work: 16 KiB of JSON is a few
#: thousand list items at most, a few milliseconds of validation.
OFF_LOOP_BYTES = 16 * 1024
_RETRY_AFTER = 1  # seconds: a body's budget comes back as soon as its arguments are validated


def body_limit(settings: Settings) -> tuple[int, str]:
    """The largest body read into memory (0: none) and the option that sets it.

    ``--max-json-size`` wins ties: it is the one a user meant to set for these bodies.
    """
    candidates = [(settings.max_json_size, "--max-json-size"),
                  (settings.client_max_size, "--client-max-size"),
                  (settings.max_buffered, "--max-buffered")]
    set_ = [(size, option) for size, option in candidates if size]
    return min(set_, key=lambda pair: pair[0]) if set_ else (0, "")


class BodyBudget:
    """Bytes of request bodies held in memory at once, all requests together (0: no bound).

    A request's body counts from before it is read until its arguments are validated (or it
    failed), and a validation thread that outlives its request (the client left) keeps it
    counted until it ends: the thread still holds the data.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        #: Bytes counted now, the most ever counted at once, and requests refused (503).
        self.held = self.peak = self.refused = 0

    def hold(self, settings: Settings) -> Held:
        """A request's share, empty until it reads a body; give it back with ``release()``."""
        return Held(self, *body_limit(settings))

    def _take(self, size: int) -> None:
        if self.total and self.held + size > self.total:
            self.refused += 1
            raise Overloaded("The server is reading too much request data at once (--max-"
                             "buffered, %d bytes); try again shortly" % self.total,
                             retry_after=_RETRY_AFTER)
        self.held += size
        self.peak = max(self.peak, self.held)

    def _give(self, size: int) -> None:
        self.held -= size


class Held:
    """One request's bytes in memory: checked against the body limit, counted in the budget."""

    def __init__(self, budget: BodyBudget, limit: int, option: str) -> None:
        self._budget, self._limit, self._option = budget, limit, option
        self.size = 0
        self._thread: asyncio.Future[Any] | None = None
        self._released = False

    def reserve(self, size: int) -> None:
        """Count ``size`` bytes in all for this request (more than before, or nothing new):
        413 past the body limit, 503 past the budget."""
        if self._limit and size > self._limit:
            raise PayloadTooLarge("Request body larger than the %d bytes this server reads "
                                  "into memory for JSON and form fields (%s)"
                                  % (self._limit, self._option))
        if size > self.size:
            self._budget._take(size - self.size)
            self.size = size

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)``: here for a small body, in a thread for a big one."""
        if self.size < OFF_LOOP_BYTES:
            return func(*args)
        # A thread cannot be stopped: shielded, so that a client leaving cancels only our
        # wait, and release() knows the data is still held until the thread ends.
        self._thread = asyncio.ensure_future(asyncio.to_thread(func, *args))
        return await asyncio.shield(self._thread)

    def release(self) -> None:
        """Give the bytes back now, or when a thread still working on them ends."""
        if self._released:
            return
        self._released = True
        if self._thread is not None and not self._thread.done():
            self._thread.add_done_callback(self._give_after_thread)
        else:
            self._budget._give(self.size)

    def _give_after_thread(self, thread: asyncio.Future[Any]) -> None:
        if not thread.cancelled():
            thread.exception()  # nobody awaits it any more: no "never retrieved" warning
        self._budget._give(self.size)


def _int(text: str) -> int:
    return int(text)


def _float(text: str) -> float:
    return float(text)


class _PythonScanner(json.JSONDecoder):
    """The standard decoder with its pure-Python scanner (strings still parsed in C)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # typeshed does not declare py_make_scanner, the scanner json falls back on without C
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]


#: Past this many strings a body is parsed by the Python scanner: the C one would hold the
#: GIL through them (about 60 ns each: 200,000 strings are 12 ms).
_MANY_STRINGS = 200_000


def decode_json(raw: bytes | bytearray) -> Any:
    """``json.loads(raw)``, parsed so that a big body lets other threads run.

    The C parser holds the GIL for the whole document (about 100 ms for 2,000,000 numbers),
    so even in a thread it would stall the event loop. A Python hook per number gives the
    interpreter points to switch threads, at about twice the parsing time; strings have no
    hook, so a body of many strings goes to the pure-Python scanner instead (six times
    slower than C, still quicker than validating as many items). Same results either way.
    """
    if len(raw) < OFF_LOOP_BYTES:
        return json.loads(raw)
    if raw.count(b'"') // 2 > _MANY_STRINGS:
        return json.loads(raw, cls=_PythonScanner)
    return json.loads(raw, parse_int=_int, parse_float=_float)

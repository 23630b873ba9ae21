"""The access log: one line per request, written in batches.

Going through :mod:`logging` for every request (a record, a formatter, a locked handler, a
write) cost a third of a trivial prediction's throughput. Lines are formatted here, in the
logging format the rest of the server uses, kept in a buffer, and written at most a quarter
of a second later (at once when the buffer is large, and at shutdown).

A query parameter named like a secret argument of a served model (``load_only`` or
``format: password``, :func:`deepaas.model.args.is_secret`) shows its value as ``***``: the
value of ``?password=...`` never reaches the log.

A request aiohttp rejects before it reaches the app (a garbled request line, a header past
its limits: a 400) has no method, path or route to show: its line shows ``"-"`` and
``rejected="..."``, aiohttp's reason with the bytes it quotes. A port scanner or a flood of
garbage must not fill the disk, so at most ``REJECTED_PER_SECOND`` such lines are written in
any one second (a window opened by the first of them), and one ``WARNING`` line at the end of
the window counts the rest. Ten a second shows who sends what during an incident; a flood of
any size then costs at most eleven lines a second. aiohttp's own record of such a request (a
traceback each, on ``aiohttp.server``) is dropped by :func:`not_a_parse_error`.

Durations are shown in milliseconds with three decimals, measured on ``time.perf_counter``
from the moment the request reached the app: the duration aiohttp hands the logger comes
from ``loop.time()``, which uvloop keeps in whole milliseconds (a fast request read 0.00ms).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
from collections.abc import Iterable
from typing import TextIO

from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import BaseRequest, Response, StreamResponse

from deepaas.api.observe import REQUEST_ID_KEY, STARTED_KEY
from deepaas.api.routes import model_in
from deepaas.model.args import MASK

__all__ = ["AccessLog", "REJECTED_PER_SECOND", "masked_path", "not_a_parse_error"]

_FLUSH_AFTER = 0.25  # seconds
_FLUSH_SIZE = 64 * 1024  # characters
REJECTED_PER_SECOND = 10
_REASON_CHARS = 160


def not_a_parse_error(record: logging.LogRecord) -> bool:
    """A filter for ``aiohttp.server``: False for aiohttp's record (with a traceback) of a
    request it could not parse; the access log has its one line."""
    return not (record.exc_info and isinstance(record.exc_info[1], HttpProcessingError))


def _reason(response: StreamResponse) -> str:
    """aiohttp's reason for rejecting a request, on one line (its body, without the caret
    line that points into the quoted bytes)."""
    try:
        text = response.text if isinstance(response, Response) else None
    except (UnicodeDecodeError, AttributeError):
        text = None
    words = " ".join((text or "").split()).removesuffix(" ^")
    return (words[:_REASON_CHARS] + "...") if len(words) > _REASON_CHARS else words or "-"


def masked_path(raw_path: str, hidden: frozenset[str]) -> str:
    """The request target with the value of each query parameter in ``hidden`` as ``***``
    (its name and every other byte as sent)."""
    path, mark, query = raw_path.partition("?")
    if not mark or not hidden:
        return raw_path
    pairs = query.split("&")
    for index, pair in enumerate(pairs):
        key, equals, _ = pair.partition("=")
        if equals and urllib.parse.unquote_plus(key) in hidden:
            pairs[index] = key + "=" + MASK
    return path + mark + "&".join(pairs)


class AccessLog:
    """Buffered access lines for one server; ``logger_class()`` plugs it into aiohttp."""

    def __init__(self, streams: list[TextIO], enabled: bool = True, as_json: bool = False) -> None:
        self.enabled = enabled
        self._json = as_json
        self._streams = streams
        self._lines: list[str] = []
        self._size = 0
        self._scheduled = False
        self._second = -1
        self._stamp = ""
        self._hidden: frozenset[str] = frozenset()
        self._window_ends = 0.0  # the rejected requests' one-second window, on loop.time()
        self._window_count = 0
        self._unlogged = 0

    def hide(self, names: Iterable[str]) -> None:
        """Show the values of query parameters ``names`` as ``***`` (the served models'
        secret arguments, on every route: a mistyped model name is logged too)."""
        self._hidden = frozenset(names)

    def _timestamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:  # strftime once a second, not once a request
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        return "%s,%03d" % (self._stamp, int((now - second) * 1000))

    def _line(self, request: BaseRequest, response: StreamResponse, took: float) -> str:
        # raw_path is the request line as sent (path_qs would parse a URL object again)
        rid = request.get(REQUEST_ID_KEY, "-")
        model = model_in(request)  # as the route table declares the route
        target = masked_path(request.raw_path, self._hidden)
        if self._json:
            return json.dumps({
                "time": self._timestamp(time.time()), "level": "INFO", "logger": "aiohttp.access",
                "remote": request.remote, "method": request.method, "path": target,
                "status": response.status, "duration_ms": round(took * 1000, 3),
                "bytes": response.body_length, "request_id": rid, "model": model or None}) + "\n"
        return '%s INFO aiohttp.access: %s "%s %s" %d %.3fms %sB rid=%s%s\n' % (
            self._timestamp(time.time()), request.remote, request.method, target,
            response.status, took * 1000, response.body_length, rid,
            " model=" + model if model else "")

    def _rejected_line(self, request: BaseRequest, response: StreamResponse, took: float
                       ) -> str:
        # aiohttp's stand-in request says "UNKNOWN /": not what was sent, so not shown
        reason = _reason(response)
        if self._json:
            return json.dumps({
                "time": self._timestamp(time.time()), "level": "INFO", "logger": "aiohttp.access",
                "remote": request.remote, "method": None, "path": None,
                "status": response.status, "duration_ms": round(took * 1000, 3),
                "bytes": response.body_length, "request_id": None, "model": None,
                "rejected": reason}) + "\n"
        return '%s INFO aiohttp.access: %s "-" %d %.3fms %sB rid=- rejected=%s\n' % (
            self._timestamp(time.time()), request.remote, response.status, took * 1000,
            response.body_length, json.dumps(reason))

    def _summary(self) -> None:
        """The line that counts the rejected requests the last window left out."""
        count, self._unlogged = self._unlogged, 0
        if not count:
            return
        message = ("%d more malformed requests were not logged (at most %d"
                   " a second are)" % (count, REJECTED_PER_SECOND))
        if self._json:
            line = json.dumps({"time": self._timestamp(time.time()), "level": "WARNING",
                               "logger": "aiohttp.access", "message": message,
                               "unlogged": count}) + "\n"
        else:
            line = "%s WARNING aiohttp.access: %s\n" % (self._timestamp(time.time()), message)
        self._append(line)

    def _admits_rejected(self) -> bool:
        """Whether the window has room for one more rejected request's line."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if now >= self._window_ends:
            self._window_ends, self._window_count = now + 1.0, 0
        self._window_count += 1
        if self._window_count <= REJECTED_PER_SECOND:
            return True
        if not self._unlogged:
            loop.call_at(self._window_ends, self._summary)
        self._unlogged += 1
        return False

    def reject(self, request: BaseRequest, response: StreamResponse, took: float) -> None:
        """A request aiohttp answered before it reached the app (it could not parse it)."""
        if self._admits_rejected():
            self._append(self._rejected_line(request, response, took))

    def add(self, request: BaseRequest, response: StreamResponse, took: float) -> None:
        self._append(self._line(request, response, took))

    def _append(self, line: str) -> None:
        self._lines.append(line)
        self._size += len(line)
        if self._size >= _FLUSH_SIZE:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(_FLUSH_AFTER, self.flush)

    def close(self) -> None:
        """Write everything now, the count of rejected requests left out included (the stop)."""
        self._summary()
        self.flush()

    def flush(self) -> None:
        self._scheduled = False
        if not self._lines:
            return
        text = "".join(self._lines)
        self._lines.clear()
        self._size = 0
        for stream in self._streams:
            try:
                stream.write(text)
                stream.flush()
            except (OSError, ValueError):  # a pipe whose reader has gone: lose the lines, not
                pass                       # the server (or its stop)

    def logger_class(self) -> type[AbstractAccessLogger]:
        """The class aiohttp instantiates; its instances write into this log."""
        sink = self

        class _AccessLogger(AbstractAccessLogger):
            @property
            def enabled(self) -> bool:
                return sink.enabled

            def log(self, request: BaseRequest, response: StreamResponse, took: float) -> None:
                # aiohttp's ``took`` comes from loop.time(): whole milliseconds under uvloop
                started = request.get(STARTED_KEY)
                if started is None:  # the app never saw it: aiohttp rejected it as malformed
                    sink.reject(request, response, took)
                    return
                sink.add(request, response, time.perf_counter() - started)

        return _AccessLogger

"""The access log: one line per request, written in batches.

Going through :mod:`logging` for every request (a record, a formatter, a locked handler, a
write) cost a third of a trivial prediction's throughput. Lines are formatted here, in the
logging format the rest of the server uses, kept in a buffer, and written at most a quarter
of a second later (at once when the buffer is large, and at shutdown).

A query parameter named like a secret argument of a served model (``load_only`` or
``format: password``, :func:`deepaas.model.args.is_secret`) shows its value as ``***``: the
value of ``?password=...`` never reaches the log.

Durations are shown in milliseconds with three decimals, measured on ``time.perf_counter``
from the moment the request reached the app: the duration aiohttp hands the logger comes
from ``loop.time()``, which uvloop keeps in whole milliseconds (a fast request read 0.00ms).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Iterable
from typing import TextIO

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from deepaas.api.observe import REQUEST_ID_KEY, STARTED_KEY
from deepaas.api.routes import model_in
from deepaas.model.args import MASK

__all__ = ["AccessLog", "masked_path"]

_FLUSH_AFTER = 0.25  # seconds
_FLUSH_SIZE = 64 * 1024  # characters


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

    def add(self, request: BaseRequest, response: StreamResponse, took: float) -> None:
        line = self._line(request, response, took)
        self._lines.append(line)
        self._size += len(line)
        if self._size >= _FLUSH_SIZE:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(_FLUSH_AFTER, self.flush)

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
                if started is not None:
                    took = time.perf_counter() - started
                sink.add(request, response, took)

        return _AccessLogger

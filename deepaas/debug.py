"""Capture of stdout, stderr and logs for ``GET /v2/debug/`` (``--debug-endpoint``)."""

from __future__ import annotations

import collections
import io
import logging
import sys
import threading
from typing import Any, TextIO

__all__ = ["DebugCapture"]


class _Tee(io.TextIOBase):
    """Writes to the real stream and to the capture."""

    def __init__(self, stream: TextIO, capture: DebugCapture) -> None:
        self._stream = stream
        self._capture = capture

    def write(self, text: str) -> int:
        self._capture.add(text)
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Handler(logging.Handler):
    def __init__(self, capture: DebugCapture) -> None:
        super().__init__()
        self._capture = capture
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self._capture.add(self.format(record) + "\n")


class DebugCapture:
    """The last ``max_chars`` characters printed or logged by the server and its modules.

    Bounded, so a chatty module cannot grow the server's memory without limit.
    """

    def __init__(self, max_chars: int = 1_000_000) -> None:
        self._chunks: collections.deque[str] = collections.deque()
        self._size = 0
        self._max = max_chars
        self._lock = threading.Lock()
        self._saved: tuple[TextIO, TextIO] | None = None
        self._handler = _Handler(self)

    def add(self, text: str) -> None:
        with self._lock:
            self._chunks.append(text)
            self._size += len(text)
            while self._size > self._max and len(self._chunks) > 1:
                self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        with self._lock:
            return "".join(self._chunks)

    def start(self) -> None:
        """Tee sys.stdout and sys.stderr and attach a handler to the root logger."""
        if self._saved is not None:
            return
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _Tee(sys.stdout, self)
        sys.stderr = _Tee(sys.stderr, self)
        logging.getLogger().addHandler(self._handler)

    def stop(self) -> None:
        if self._saved is None:
            return
        sys.stdout, sys.stderr = self._saved
        self._saved = None
        logging.getLogger().removeHandler(self._handler)

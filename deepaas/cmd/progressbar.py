"""Showing a CLI training's progress reports on standard error.

On a terminal the reports become one bar redrawn in place, and whatever the module prints is
written above it (the bar is cleared, the text written, the bar drawn again); elsewhere each
report is a plain line.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from deepaas.progress import ENV_FD

__all__ = ["render", "watch"]

_WIDTH = 30
_CLEAR = b"\r\x1b[2K"


def _metrics(report: dict[str, Any]) -> str:
    values = report.get("metrics") or {}
    return " ".join("%s=%s" % (k, "%.4g" % v if isinstance(v, float) else v)
                    for k, v in values.items())


def render(report: dict[str, Any], tty: bool) -> str:
    """One report as a bar (for a terminal) or as a plain line (ending with a newline)."""
    step, total = report.get("step"), report.get("total")
    if isinstance(step, (int, float)) and isinstance(total, (int, float)) and total > 0:
        fraction = min(max(step / total, 0.0), 1.0)
        if tty:
            filled = int(round(fraction * _WIDTH))
            where = "[%s%s] %s/%s %3d%%" % ("#" * filled, "-" * (_WIDTH - filled), step, total,
                                           fraction * 100)
        else:
            where = "step %s/%s (%d%%)" % (step, total, fraction * 100)
    else:
        where = "step %s" % step if step is not None else "progress"
    text = ("%s %s" % (where, _metrics(report))).rstrip()
    return text if tty else "progress: " + text + "\n"


class _Screen:
    """The terminal's last line holds the bar; everything else is written above it."""

    def __init__(self, fd: int, tty: bool) -> None:
        self._fd, self.tty = fd, tty
        self._bar = b""
        self._drawn = False  # the bar is on the last line now
        self._midline = False  # the module's output stopped in the middle of a line
        self._lock = threading.Lock()

    def report(self, report: dict[str, Any]) -> None:
        text = render(report, self.tty).encode("utf-8", "replace")
        with self._lock:
            if not self.tty:
                os.write(self._fd, text)
                return
            self._bar = text
            if not self._midline:  # never draw over a line the module is still writing
                os.write(self._fd, _CLEAR + text)
                self._drawn = True

    def passthrough(self, data: bytes) -> None:
        with self._lock:
            if self._drawn:
                os.write(self._fd, _CLEAR)
                self._drawn = False
            os.write(self._fd, data)
            self._midline = not data.endswith(b"\n")
            if not self._midline and self._bar:
                os.write(self._fd, self._bar)
                self._drawn = True

    def finish(self) -> None:
        if self._drawn or self._midline:
            os.write(self._fd, b"\n")


def _read_reports(fd: int, on_report: Callable[[dict[str, Any]], None], screen: _Screen) -> None:
    with os.fdopen(fd, "rb") as reader:
        for line in reader:
            with contextlib.suppress(ValueError):
                report = json.loads(line)
                if isinstance(report, dict):
                    on_report(report)
                    screen.report(report)


def _copy_output(fd: int, screen: _Screen) -> None:
    with os.fdopen(fd, "rb", buffering=0) as reader:
        while chunk := reader.read(65536):
            screen.passthrough(chunk)


def _thread(target: Callable[..., None], *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def _above_the_bar(screen: _Screen, real_fd: int) -> Iterator[None]:
    """On a terminal, route fds 1 and 2 through the screen so prints land above the bar."""
    if not screen.tty:
        yield
        return
    read_fd, write_fd = os.pipe()
    saved = (os.dup(1), os.dup(2))
    os.dup2(write_fd, 1)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    copier = _thread(_copy_output, read_fd, screen)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        copier.join(timeout=5)


@contextlib.contextmanager
def watch(on_report: Callable[[dict[str, Any]], None], stderr_fd: int = 2) -> Iterator[None]:
    """While the block runs, ``deepaas.progress.report()`` in this process reaches
    ``on_report`` and is shown on ``stderr_fd``."""
    real_fd = os.dup(stderr_fd)
    screen = _Screen(real_fd, os.isatty(real_fd))
    read_fd, write_fd = os.pipe()
    previous = os.environ.get(ENV_FD)
    os.environ[ENV_FD] = str(write_fd)
    reader = _thread(_read_reports, read_fd, on_report, screen)
    try:
        with _above_the_bar(screen, real_fd):
            yield
    finally:
        if previous is None:
            os.environ.pop(ENV_FD, None)
        else:
            os.environ[ENV_FD] = previous
        os.close(write_fd)
        reader.join(timeout=5)
        screen.finish()
        os.close(real_fd)

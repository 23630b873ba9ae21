"""Running the app until a signal: listen at once, warm in the background, stop gracefully.

On SIGTERM or SIGINT the server stops accepting connections, lets the requests in flight
finish (at most ``--shutdown-timeout`` seconds; those still running then are answered 503),
stops its trainings and everything they started, stops its worker processes and exits 0. A
second signal exits at once. If a model fails to warm, the server stops and exits 1 with the
reason. Stopping never depends on being able to write: stdout and stderr may be pipes whose
reader has gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from aiohttp import web

from deepaas.api.access import AccessLog
from deepaas.api.keys import WARMUP
from deepaas.config import Settings
from deepaas.exceptions import DeepaasError

__all__ = ["leave_stuck_threads", "serve"]

LOG = logging.getLogger("deepaas.run")
# aiohttp's own deadline for requests in flight comes this long after ours (which answers them
# 503): it only acts for a handler that ignores being cancelled.
_BACKSTOP = 0.5


def _say(text: str) -> None:
    """One line to stderr that cannot fail: no buffer, and a closed pipe is not an error."""
    with contextlib.suppress(OSError, ValueError):
        os.write(2, text.encode(errors="replace") + b"\n")


def _on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    def first(sig: signal.Signals) -> None:
        stop.set()  # first: whatever happens next, the server stops
        for again in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(again, os._exit, 128 + int(again))
        _say("deepaas-run: %s: stopping (again to exit at once)" % sig.name)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, first, sig)


def _settle_streams(*streams: TextIO) -> None:
    """Flush what is buffered for stdout and stderr; one whose reader has gone is pointed at
    /dev/null, so that the flush at exit neither fails nor turns the exit code into 120."""
    for stream in streams:
        try:
            stream.flush()
        except BrokenPipeError:  # its reader has gone; only then is the descriptor replaced
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
                stream.flush()
        except (OSError, ValueError):  # closed, or not a file at all: nothing to settle
            pass


async def _until_stopped(app: web.Application, stop: asyncio.Event) -> int:
    """0 after a signal; 1 when warming a model failed."""
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({stopping, app[WARMUP]}, return_when=asyncio.FIRST_COMPLETED)
    warmup = app[WARMUP]
    if not stop.is_set() and warmup.done() and not warmup.cancelled():
        error = warmup.exception()
        if error is None:
            await stopping  # warm: serve until a signal
            return 0
        _say("deepaas-run: %s" % error)
        stopping.cancel()
        return error.exit_code if isinstance(error, DeepaasError) else 1
    stopping.cancel()
    return 0


async def _serve(app: web.Application, settings: Settings, access: AccessLog,
                 ready: Callable[[int], None]) -> int:
    runner = web.AppRunner(app, handler_cancellation=True,
                           shutdown_timeout=settings.shutdown_timeout + _BACKSTOP,
                           access_log_class=access.logger_class())
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.listen_ip, settings.listen_port).start()
        ready(runner.addresses[0][1])  # the port: the one asked for, or chosen for port 0
        stop = asyncio.Event()
        _on_signals(asyncio.get_running_loop(), stop)
        return await _until_stopped(app, stop)
    finally:
        await runner.cleanup()  # stop listening, finish in-flight requests, then clean up
        access.close()
        _settle_streams(sys.stdout, sys.stderr)


def serve(app: web.Application, settings: Settings, access: AccessLog,
          loop: asyncio.AbstractEventLoop, ready: Callable[[int], None]) -> int:
    """Serve ``app`` until stopped; answer the process exit code. ``ready(port)`` is called
    once it listens."""
    asyncio.set_event_loop(loop)
    try:
        code = loop.run_until_complete(_serve(app, settings, access, ready))
    finally:
        loop.close()
    return code


def leave_stuck_threads(code: int) -> None:
    """Exit the process now if a module's code still runs in a thread (a synchronous predict
    cut off by the shutdown timeout): Python would wait for it at exit, however long it takes.
    For the command only: called in another program (a test) it would end that program."""
    deadline = time.monotonic() + 0.2  # idle pool threads are on their way out: let them go
    stuck = [t for t in threading.enumerate() if t is not threading.main_thread()
             and not t.daemon]
    for thread in stuck:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t for t in stuck if t.is_alive()]
    if stuck:
        LOG.warning("%d thread(s) still running (a module's code): exiting without waiting "
                    "for them", len(stuck))
        logging.shutdown()
        _settle_streams(sys.stdout, sys.stderr)
        os._exit(code)

"""Running the app until a signal: listen at once, warm in the background, stop gracefully.

On SIGTERM or SIGINT the server stops accepting connections, lets the requests in flight
finish (at most ``--shutdown-timeout`` seconds), records running trainings as interrupted,
stops its worker processes and exits 0. A second signal exits at once. If a model fails to
warm, the server stops and exits 1 with the reason.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable

from aiohttp import web

from deepaas.api.access import AccessLog
from deepaas.api.keys import WARMUP
from deepaas.config import Settings
from deepaas.exceptions import DeepaasError

__all__ = ["serve"]


def _on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    def first(sig: signal.Signals) -> None:
        print("deepaas-run: %s: stopping (again to exit at once)" % sig.name, file=sys.stderr,
              flush=True)
        stop.set()
        for again in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(again, os._exit, 128 + int(again))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, first, sig)


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
        print("deepaas-run: %s" % error, file=sys.stderr, flush=True)
        stopping.cancel()
        return error.exit_code if isinstance(error, DeepaasError) else 1
    stopping.cancel()
    return 0


async def _serve(app: web.Application, settings: Settings, access: AccessLog,
                 ready: Callable[[], None]) -> int:
    runner = web.AppRunner(app, handler_cancellation=True,
                           shutdown_timeout=settings.shutdown_timeout,
                           access_log_class=access.logger_class())
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.listen_ip, settings.listen_port).start()
        ready()
        stop = asyncio.Event()
        _on_signals(asyncio.get_running_loop(), stop)
        return await _until_stopped(app, stop)
    finally:
        await runner.cleanup()  # stop listening, finish in-flight requests, then clean up
        access.flush()


def serve(app: web.Application, settings: Settings, access: AccessLog,
          loop: asyncio.AbstractEventLoop, ready: Callable[[], None]) -> int:
    """Serve ``app`` until stopped; answer the process exit code."""
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(_serve(app, settings, access, ready))
    finally:
        loop.close()

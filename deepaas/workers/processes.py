"""Predictions in worker processes (``--isolate``): a crash costs one request, not the server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from typing import Any

from deepaas.exceptions import WorkerCrashed
from deepaas.lifeline import ENV_SERVER_PID
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.framing import WorkerGone, pack, read_async
from deepaas.workers.messages import Call, Failed, Outcome, Ready
from deepaas.workers.pool import WorkerPool

__all__ = ["ProcessRunner"]

def _describe(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return "killed by %s" % signal.Signals(-code).name
        return "killed by signal %d" % -code
    return "exit code %d" % code


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Take a round trip's failure nobody awaits any more (its caller was cancelled)."""
    if not task.cancelled():
        task.exception()


class _Worker:
    """One warmed worker process and the socket it answers on."""

    def __init__(self, proc: asyncio.subprocess.Process, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.proc, self.reader, self.writer = proc, reader, writer
        self._lock = asyncio.Lock()  # one message and its reply at a time

    async def exchange(self, message: Any) -> Any:
        """Send a message and read the reply. Shielded: a caller cancelled meanwhile (its
        client left) leaves the reply read, so that the next message gets its own."""
        task = asyncio.ensure_future(self._round_trip(message))
        task.add_done_callback(_retrieved)
        return await asyncio.shield(task)

    async def _round_trip(self, message: Any) -> Any:
        async with self._lock:
            self.writer.write(pack(message))
            return await read_async(self.reader)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.writer.close()


class ProcessRunner(WorkerPool[_Worker]):
    """``workers`` processes for one model, each warmed; a dead one is replaced and warmed."""

    def __init__(self, model: ModelWrapper, workers: int, warm: bool = True) -> None:
        super().__init__(model, workers)
        self._warm = warm
        self._all: set[_Worker] = set()

    async def _spawn(self) -> _Worker:
        parent, child = socket.socketpair()
        env = {**os.environ, ENV_SERVER_PID: str(os.getpid())}
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "deepaas.workers.worker", str(child.fileno()),
                self.model.name, self.model.source or "", "1" if self._warm else "0",
                pass_fds=(child.fileno(),), env=env)
        finally:
            child.close()
        reader, writer = await asyncio.open_connection(sock=parent)
        worker = _Worker(proc, reader, writer)
        try:
            hello: Ready | Failed = await read_async(reader)
        except WorkerGone:
            code = await proc.wait()
            raise WorkerCrashed("a worker of model '%s' died while starting (%s)"
                                % (self.model.name, _describe(code))) from None
        if isinstance(hello, Failed):
            worker.kill()
            raise hello.error.exception()
        self._all.add(worker)
        return worker

    async def _call(self, worker: _Worker, calls: list[Call]) -> list[Outcome]:
        replies: list[Outcome] = await self._exchange(worker, calls)
        return replies

    async def _exchange(self, worker: _Worker, message: Any) -> Any:
        try:
            return await worker.exchange(message)
        except WorkerGone:
            code = await worker.proc.wait()
            self._all.discard(worker)
            raise WorkerCrashed(
                "The worker process serving this prediction of model '%s' died (%s); "
                "a new one was started" % (self.model.name, _describe(code))) from None

    def _kill(self, worker: _Worker) -> None:
        worker.kill()

    async def close(self) -> None:
        self._stop_spares()
        for worker in list(self._all):
            worker.kill()
        await asyncio.gather(*(w.proc.wait() for w in self._all), return_exceptions=True)

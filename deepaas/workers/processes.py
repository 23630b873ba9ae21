"""Predictions in worker processes (``--isolate``): a crash costs one request, not the server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys

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


class _Worker:
    """One warmed worker process and the socket it answers on."""

    def __init__(self, proc: asyncio.subprocess.Process, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.proc, self.reader, self.writer = proc, reader, writer

    async def call(self, calls: list[Call]) -> list[Outcome]:
        self.writer.write(pack(calls))
        replies: list[Outcome] = await read_async(self.reader)
        return replies

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
        try:
            return await worker.call(calls)
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

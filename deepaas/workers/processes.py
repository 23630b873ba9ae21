"""Predictions in worker processes (``--isolate``): a crash costs one request, not the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from typing import Any

from deepaas.exceptions import WorkerCrashed, from_wire
from deepaas.lifeline import ENV_SERVER_PID
from deepaas.model.outputs import Answer
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.framing import WorkerGone, pack, read_async

__all__ = ["ProcessRunner", "decode_reply"]

LOG = logging.getLogger(__name__)


def _describe(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return "killed by %s" % signal.Signals(-code).name
        return "killed by signal %d" % -code
    return "exit code %d" % code


def decode_reply(reply: tuple[str, Any]) -> Any:
    kind, payload = reply
    if kind == "ok":
        return Answer(*payload)
    if kind == "batch":
        return [Answer(*p) if k == "ok" else from_wire(p) for k, p in payload]
    raise from_wire(payload)


class _Worker:
    """One warmed worker process and the socket it answers on."""

    def __init__(self, proc: asyncio.subprocess.Process, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.proc, self.reader, self.writer = proc, reader, writer

    async def call(self, message: Any) -> Any:
        self.writer.write(pack(message))
        return await read_async(self.reader)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.writer.close()


class ProcessRunner:
    """``workers`` processes for one model, each warmed; a dead one is replaced and warmed."""

    def __init__(self, model: ModelWrapper, workers: int, warm: bool = True) -> None:
        if model.source is None:
            raise ValueError("model %r has no import reference to start workers from"
                             % model.name)
        self.model = model
        self.capacity = workers
        self.restarts = 0
        self._warm = warm
        self._free: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._busy: dict[asyncio.Task[Any], _Worker] = {}
        self._spares: set[asyncio.Task[None]] = set()

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
            kind, payload = await read_async(reader)
        except WorkerGone:
            code = await proc.wait()
            raise WorkerCrashed("a worker of model '%s' died while starting (%s)"
                                % (self.model.name, _describe(code))) from None
        if kind != "ready":
            worker.kill()
            raise from_wire(payload)
        self._all.add(worker)
        return worker

    async def start(self) -> None:
        for worker in await asyncio.gather(*(self._spawn() for _ in range(self.capacity))):
            self._free.put_nowait(worker)

    def _replace(self) -> None:
        async def spare() -> None:
            try:
                self._free.put_nowait(await self._spawn())
                self.restarts += 1
            except Exception:
                LOG.exception("could not replace a worker of model %s", self.model.name)
        task = asyncio.create_task(spare())
        self._spares.add(task)
        task.add_done_callback(self._spares.discard)

    async def run(self, kind: str, payload: Any) -> Any:
        """Send one request to a free worker; a worker that dies answers WorkerCrashed."""
        worker = await self._free.get()
        task = asyncio.current_task()
        assert task is not None
        self._busy[task] = worker
        try:
            reply = await worker.call((kind, payload))
        except WorkerGone:
            code = await worker.proc.wait()
            self._all.discard(worker)
            LOG.error("a worker of model %s died (%s); starting another",
                      self.model.name, _describe(code))
            self._replace()
            raise WorkerCrashed(
                "The worker process serving this prediction of model '%s' died (%s); "
                "a new one was started" % (self.model.name, _describe(code))) from None
        finally:
            self._busy.pop(task, None)
        self._free.put_nowait(worker)
        return decode_reply(reply)

    def abandon(self, task: asyncio.Task[Any]) -> None:
        """A timed-out call: kill its worker (it is replaced, warmed again)."""
        worker = self._busy.get(task)
        if worker is not None:
            worker.kill()

    async def close(self) -> None:
        for task in list(self._spares):
            task.cancel()
        for worker in list(self._all):
            worker.kill()
        await asyncio.gather(*(w.proc.wait() for w in self._all), return_exceptions=True)

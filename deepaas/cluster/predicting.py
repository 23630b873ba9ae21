"""Predictions on Ray (``--predict-executor ray``): ``--workers`` actors, each warmed once.

Each actor loads the module on whatever node Ray places it, warms it, and answers one request
at a time, like an ``--isolate`` worker process (a streamed answer is read from it item by
item, as from a worker process); the server's dispatcher keeps its queue, batching and
timeouts as they are. Uploaded files travel as bytes; answers come back as bytes.
An actor that dies costs the request it was serving and is replaced.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import tempfile
from typing import Any

import ray
from ray.exceptions import RayActorError, RayError

from deepaas.cluster.connection import RayConnection
from deepaas.cluster.shipping import pack_calls, resources, unpack_calls
from deepaas.exceptions import WorkerCrashed
from deepaas.model.streams import Chunk
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.messages import Call, Close, Error, Failed, Outcome, Pull, Ready
from deepaas.workers.pool import WorkerPool
from deepaas.workers.producing import Producers
from deepaas.workers.warmed import load_or_failed
from deepaas.workers.worker import serve

__all__ = ["PredictActor", "RayRunner"]

class PredictActor:
    """One warmed copy of a module on a Ray node."""

    def __init__(self, name: str, source: str, warm: bool) -> None:
        self._loop = asyncio.new_event_loop()
        # a failure is answered by ready(), so that the server can say why
        self._model = load_or_failed(name, source, warm)
        self._producers = (Producers(self._model, self._loop)
                           if isinstance(self._model, ModelWrapper) else None)

    def ready(self) -> Ready | Failed:
        """Ready once warm; else why loading or warming failed."""
        return self._model if isinstance(self._model, Failed) else Ready()

    def serve(self, calls: list[Call]) -> list[Outcome]:
        """One outcome per call; the uploads stay until the streams among them are over."""
        assert isinstance(self._model, ModelWrapper) and self._producers is not None, \
            "served before it was ready"
        folder = tempfile.mkdtemp(prefix="deepaas-ray-predict-")
        try:
            outcomes = serve(self._model, self._loop, unpack_calls(calls, folder))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return self._producers.register(
            outcomes, over=functools.partial(shutil.rmtree, folder, ignore_errors=True))

    def answer(self, message: Pull | Close) -> list[Chunk | Error | None]:
        """The next item of a stream, or its close (``deepaas.workers.producing``)."""
        assert self._producers is not None, "asked before it was ready"
        return self._producers.answer(message)


def _crashed(model: str, exc: BaseException) -> WorkerCrashed:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return WorkerCrashed("The Ray worker serving this prediction of model '%s' died (%s); a "
                         "new one was started" % (model, first))


class RayRunner(WorkerPool[Any]):
    """The runner of one model's dispatcher: actors in place of worker processes."""

    def __init__(self, model: ModelWrapper, workers: int, connection: RayConnection,
                 warm: bool = True, cpus: float = 1.0, gpus: float = 0.0,
                 memory: int = 0) -> None:
        super().__init__(model, workers)
        self._connection = connection
        self._warm = warm
        self._defaults = (cpus, gpus, memory)
        self._options: dict[str, Any] = {}
        self._all: list[Any] = []

    async def _spawn(self) -> Any:
        actor: Any = ray.remote(PredictActor).options(
            max_restarts=0, **self._options).remote(
            self.model.name, self.model.source, self._warm)
        try:
            hello: Ready | Failed = await actor.ready.remote()
        except RayError as exc:
            raise _crashed(self.model.name, exc) from None
        if isinstance(hello, Failed):
            ray.kill(actor)
            raise hello.error.exception()
        self._all.append(actor)
        return actor

    async def start(self) -> None:
        await self._connection.open()
        declared = await asyncio.to_thread(lambda: self.model.metadata().get("resources"))
        self._options = resources(declared, *self._defaults)
        await super().start()

    async def _call(self, actor: Any, calls: list[Call]) -> list[Outcome]:
        try:
            shipped = await asyncio.to_thread(pack_calls, calls)
            replies: list[Outcome] = await actor.serve.remote(shipped)
            return replies
        except RayActorError as exc:
            if actor in self._all:
                self._all.remove(actor)
            raise _crashed(self.model.name, exc) from None

    async def _exchange(self, actor: Any, message: Pull | Close) -> list[Chunk | Error | None]:
        try:
            reply: list[Chunk | Error | None] = await actor.answer.remote(message)
            return reply
        except RayActorError as exc:
            if actor in self._all:
                self._all.remove(actor)
            raise _crashed(self.model.name, exc) from None

    def _kill(self, actor: Any) -> None:
        ray.kill(actor)

    async def close(self) -> None:
        self._stop_spares()
        for actor in self._all:
            ray.kill(actor)
        self._all.clear()
        await self._connection.close()

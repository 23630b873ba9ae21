"""Predictions on Ray (``--predict-executor ray``): ``--workers`` actors, each warmed once.

Each actor loads the module on whatever node Ray places it, warms it, and answers one request
at a time, like an ``--isolate`` worker process; the server's dispatcher keeps its queue,
batching and timeouts as they are. Uploaded files travel as bytes; answers come back as bytes.
An actor that dies costs the request it was serving and is replaced.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import traceback
from typing import Any

import ray
from ray.exceptions import RayActorError, RayError

from deepaas.cluster.connection import RayConnection
from deepaas.cluster.shipping import pack_calls, resources, unpack_calls
from deepaas.exceptions import DeepaasError, ModelError, WorkerCrashed, from_wire, to_wire
from deepaas.model.loading import resolve
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.pool import WorkerPool
from deepaas.workers.worker import serve_one

__all__ = ["PredictActor", "RayRunner"]

class PredictActor:
    """One warmed copy of a module on a Ray node."""

    def __init__(self, name: str, source: str, warm: bool) -> None:
        self._failure: dict[str, Any] | None = None
        self._loop = asyncio.new_event_loop()
        try:
            self._model = ModelWrapper(name, resolve(source), source)
            if warm:
                self._model.warm()
        except Exception as exc:  # answered by ready(), so the server can say why
            failed = exc if isinstance(exc, DeepaasError) else ModelError(
                "%s: %s" % (type(exc).__name__, exc))
            failed.traceback = traceback.format_exc()
            self._failure = to_wire(failed)

    def ready(self) -> dict[str, Any] | None:
        """None once warm; else why loading or warming failed."""
        return self._failure

    def serve(self, kind: str, payload: Any) -> Any:
        folder = tempfile.mkdtemp(prefix="deepaas-ray-predict-")
        try:
            return serve_one(self._model, self._loop, kind, unpack_calls(kind, payload, folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)


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
            failure = await actor.ready.remote()
        except RayError as exc:
            raise _crashed(self.model.name, exc) from None
        if failure is not None:
            ray.kill(actor)
            raise from_wire(failure)
        self._all.append(actor)
        return actor

    async def start(self) -> None:
        await self._connection.open()
        declared = await asyncio.to_thread(lambda: self.model.metadata().get("resources"))
        self._options = resources(declared, *self._defaults)
        await super().start()

    async def _call(self, actor: Any, kind: str, payload: Any) -> Any:
        try:
            shipped = await asyncio.to_thread(pack_calls, kind, payload)
            return await actor.serve.remote(kind, shipped)
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

"""The job manager: the one owner of training records and their processes."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
from collections.abc import Iterable
from typing import Any

from deepaas.exceptions import JobNotFound, NotProvided
from deepaas.jobs import process
from deepaas.jobs.records import Job, JobStatus, new_job_id
from deepaas.jobs.store import JobStore
from deepaas.model.outputs import jsonable
from deepaas.model.wrapper import ModelWrapper, UploadedFile

__all__ = ["JobManager", "display_args"]

LOG = logging.getLogger(__name__)


def display_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Arguments as a record shows them: files as ``[name, content_type, original_filename]``."""
    shown: dict[str, Any] = {}
    for key, value in kwargs.items():
        if isinstance(value, UploadedFile):
            value = [value.name, value.content_type, value.original_filename]
        shown[key] = value
    return jsonable(shown)


class _Running:
    """A training in flight: its process, the task watching it, the files it owns."""

    def __init__(self, proc: process.TrainingProcess, files: list[str]) -> None:
        self.proc = proc
        self.files = files
        self.cancelled = False
        self.task: asyncio.Task[None] | None = None


class JobManager:
    """Submit, get, list and cancel trainings; each runs in its own process group."""

    def __init__(self, store: JobStore, warm: bool = True, cancel_grace: float = 5.0,
                 tmp_dir: str | None = None) -> None:
        self._store = store
        self._tmp_dir = tmp_dir
        self._warm = warm
        self._grace = cancel_grace
        self._running: dict[str, _Running] = {}

    async def submit(self, model: ModelWrapper, kwargs: dict[str, Any],
                     files: Iterable[str] = ()) -> Job:
        """Start ``model.train(**kwargs)``; the job owns ``files`` and removes them at the end."""
        if not model.provides("train") or model.source is None:
            raise NotProvided("Not implemented by underlying model (loaded '%s')" % model.name)
        job = Job(uuid=new_job_id(), model=model.name, args=display_args(kwargs),
                  date=datetime.datetime.now())
        proc = await process.start(model.name, model.source, kwargs, self._warm, self._tmp_dir)
        job.pid = proc.pid
        await self._store.put(job)
        running = _Running(proc, list(files))
        self._running[job.uuid] = running
        running.task = asyncio.create_task(self._watch(job, running), name="train-" + job.uuid)
        LOG.info("training %s of %s started (pid %d)", job.uuid, model.name, proc.pid)
        return job

    async def _watch(self, job: Job, running: _Running) -> None:
        try:
            outcome = await running.proc.wait()
        finally:
            self._running.pop(job.uuid, None)
            _remove(running.files)
        job.finish_date = datetime.datetime.now()
        if running.cancelled:
            job.status = JobStatus.CANCELLED
        elif outcome.ok:
            job.status, job.output = JobStatus.DONE, outcome.output
        else:
            job.status, job.message = JobStatus.ERROR, outcome.message
        await self._store.put(job)
        LOG.info("training %s of %s ended: %s", job.uuid, job.model, job.status.value)

    async def get(self, model: str, uuid: str) -> Job:
        job = await self._store.get(uuid)
        if job is None or job.model != model:
            raise JobNotFound("no training %s for model %s" % (uuid, model))
        return job

    async def list(self, model: str) -> list[Job]:
        return await self._store.list(model)

    async def cancel(self, model: str, uuid: str) -> Job:
        """Stop a running training and its whole process group; answer the final record."""
        await self.get(model, uuid)  # 404 for an unknown job, before anything happens
        running = self._running.get(uuid)
        if running is not None:
            running.cancelled = True
            await running.proc.terminate(self._grace)
            if running.task is not None:
                await asyncio.shield(running.task)
        return await self.get(model, uuid)

    async def close(self) -> None:
        """Stop every running training (server shutdown): no process outlives the server."""
        running = list(self._running.items())
        for _, item in running:
            item.cancelled = True
        await asyncio.gather(*(item.proc.terminate(self._grace) for _, item in running),
                             return_exceptions=True)
        await asyncio.gather(*(item.task for _, item in running if item.task),
                             return_exceptions=True)


def _remove(paths: Iterable[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            LOG.warning("could not remove %s: %s", path, exc)

"""The job manager: the one owner of training records, their queue and their processes."""

from __future__ import annotations

import asyncio
import collections
import datetime
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from deepaas.exceptions import JobNotFound, NotProvided, Overloaded, message_of
from deepaas.files import remove_files
from deepaas.jobs import process
from deepaas.jobs.active import Active, Limits, declared_resources, display_args
from deepaas.jobs.executor import Executor, LocalExecutor
from deepaas.jobs.layout import JobLayout
from deepaas.jobs.logs import follow as follow_file
from deepaas.jobs.outputs import Uploader, find_file, settle
from deepaas.jobs.records import Job, JobStatus, end, fold_report, new_job_id
from deepaas.jobs.replicas import STOPPED_QUEUED, STOPPED_RUNNING, Replica
from deepaas.jobs.sharing import LogShipper, follow_stored
from deepaas.jobs.store import JobStore
from deepaas.model.wrapper import ModelWrapper
from deepaas.resources.placement import Capacity
from deepaas.resources.request import Resources, from_declared

__all__ = ["JobManager", "STOPPED_RUNNING", "STOPPED_QUEUED"]

LOG = logging.getLogger(__name__)

_FLUSH_EVERY = 1.0  # seconds between writes of progress to the store
_RETRY_AFTER = 10  # seconds: trainings last minutes, a place in line frees up slowly
# Seconds between looks at the resources a waiting training needs: on a cluster others free
# them too (another server, Ray's other users), which no end of a training here announces.
_RESOURCES_AGAIN = 2.0


class JobManager:
    """Submit, queue, run, watch, list and cancel trainings; records survive restarts.

    Each training runs where the executor puts it (by default a process group of its own on
    this machine) with its output in a log file in its folder (:mod:`deepaas.jobs.layout`);
    uploads it was given live there too until it ends. ``on_end`` is called with each
    training this server ends, once its final record is stored (webhooks); it cannot break the
    manager: what it raises is logged.

    Over a shared store several servers (replicas) see each other's trainings: each runs those
    submitted to it and keeps in step with the others (:mod:`deepaas.jobs.replicas`).
    """

    def __init__(self, store: JobStore, data_dir: Path, *, warm: bool = True,
                 cancel_grace: float = 5.0, limits: Limits | None = None,
                 tmp_dir: str | None = None, executor: Executor | None = None,
                 replica_timeout: float = 15.0, outputs: Uploader | None = None,
                 default_resources: Resources | None = None,
                 on_end: Callable[[Job], Awaitable[None]] | None = None) -> None:
        self._store = store
        self._data_dir = data_dir
        self.layout = JobLayout.under(data_dir)
        self._warm = warm
        self._grace = cancel_grace
        self._limits = limits or Limits()
        self._tmp_dir = tmp_dir
        self._executor: Executor = executor or LocalExecutor()
        self._outputs = outputs
        self._default_resources = default_resources or Resources()
        self._on_end = on_end
        self._active: dict[str, Active] = {}
        self._replica = Replica(store, self._executor, self.layout, self._active,
                                replica_timeout)
        self._queue: collections.deque[str] = collections.deque()
        self._arriving = 0  # submissions between the line's check and the queue
        self._again: asyncio.TimerHandle | None = None  # the next look for resources

    @property
    def replica_id(self) -> str:
        """This server's name in the job store (other tables' records say their owner by it)."""
        return self._replica.id

    @property
    def capacity(self) -> Capacity:
        """What the executor places trainings on, held and free (``/v2/resources/``)."""
        return self._executor.capacity

    @property
    def executor_name(self) -> str:
        """Where trainings run: "local", or the executor's kind ("ray" for RayExecutor)."""
        kind = type(self._executor).__name__
        return "local" if isinstance(self._executor, LocalExecutor) else \
            kind.removesuffix("Executor").lower()

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store and the executor, and close the books on trainings that a stopped
        server left unfinished (a previous run of this one, or a replica gone silent)."""
        await self._store.open()
        try:
            await self._executor.open()
            await self._replica.join(self._flush, self.cancel)
        except BaseException:
            # An open store holds a thread (aiosqlite's) that would keep the process alive
            # after the failed start: it hung there instead of exiting.
            await self._store.close()
            raise

    async def close(self) -> None:
        """Stop every training (server shutdown): none outlives the server, all are recorded."""
        await self._replica.stop_syncing()
        if self._again is not None:
            self._again.cancel()
        for uuid in list(self._queue):
            await self._drop_queued(self._active[uuid], JobStatus.ERROR, STOPPED_QUEUED)
        running = list(self._active.values())
        await asyncio.gather(*(self._stop(a, cancelled=False) for a in running),
                             return_exceptions=True)
        await self._replica.leave()
        await self._executor.close()
        await self._store.close()

    # --- queries ---------------------------------------------------------------------------

    async def output_file(self, model: str, uuid: str, name: str) -> Path:
        """One file a training wrote to its output dir, kept on this server."""
        await self.get(model, uuid)  # 404 for an unknown training first
        return find_file(self.layout.output(uuid), name)

    async def log(self, model: str, uuid: str, follow: bool = False,
                  until: Callable[[], bool] = lambda: False) -> Path | AsyncIterator[bytes]:
        """The training's stdout and stderr: the log file where this server holds it (it ran
        the training, or the store is its own), else the copy a shared store keeps.

        A path when the whole file is the answer; else the bytes, with ``follow`` as they come
        until the training ends (or, for a log file here, ``until()`` says to stop: the server
        is stopping, and stops the training next).
        """
        await self.get(model, uuid)  # 404 for an unknown training first
        path = self.layout.log(uuid)
        if path.exists():
            if not follow:
                return path
            return follow_file(path, lambda: uuid not in self._active or until())
        if self._store.shared:
            return follow_stored(self._store, uuid, lambda: self.get(model, uuid), follow)
        return _nothing()

    def position(self, uuid: str) -> int | None:
        """1-based place in line among the model's waiting trainings; None once started."""
        active = self._active.get(uuid)
        if active is None or active.job.status is not JobStatus.QUEUED:
            return None
        same_model = [u for u in self._queue if self._active[u].job.model == active.job.model]
        return same_model.index(uuid) + 1

    async def counts(self) -> dict[tuple[str, str], int]:
        """Trainings by (model, status), as stored."""
        return await self._store.counts()

    async def get(self, model: str, uuid: str) -> Job:
        active = self._active.get(uuid)
        job = active.job if active is not None else await self._store.get(uuid)
        if job is None or job.model != model:
            raise JobNotFound("no training %s for model %s" % (uuid, model))
        return job

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[Job]:
        jobs = await self._store.find(model, statuses, limit, offset)
        # Running jobs' latest progress lives in memory between flushes.
        return [self._active[j.uuid].job if j.uuid in self._active else j for j in jobs]

    # --- commands --------------------------------------------------------------------------

    async def submit(self, model: ModelWrapper, kwargs: dict[str, Any],
                     files: Iterable[str] = (), urls: dict[str, str] | None = None,
                     asked: Resources | None = None) -> Job:
        """Queue ``model.train(**kwargs)``; it starts as soon as the limits and the resources
        it asks for allow (``asked``, over the module's declared ones, over the server's).

        The job takes ownership of ``files`` (uploads) and removes them when it ends; ``urls``
        says where file arguments fetched from storage came from, for the record. Resources
        that can never be given are a :class:`ResourcesUnavailable` (422) at once.
        """
        try:
            self._check_line(model.name)
            self._arriving += 1  # counted in line until it is in the queue or started
            try:
                declared = await asyncio.to_thread(declared_resources, model)
                wanted = (asked or Resources()).over(from_declared(declared)).over(
                    self._default_resources)
                self._executor.capacity.check(wanted)
                return await self._submit(model, kwargs, set(files), urls, wanted, declared)
            finally:
                self._arriving -= 1
        except BaseException:
            remove_files(files)  # nobody else will: the caller handed them over
            raise

    def _check_line(self, model: str) -> None:
        """503 when this training would wait and the line is full (a flood of submissions
        would otherwise queue without end, each with its arguments in memory).

        Submissions still being recorded count as waiting, since none of a burst has started
        yet: the line never grows past the bound, though a burst may be refused a place that
        one of its trainings starting would have freed.
        """
        waiting = len(self._queue) + self._arriving
        would_wait = self._arriving or not self._can_start(model)
        if self._limits.waiting and waiting >= self._limits.waiting and would_wait:
            raise Overloaded("%d trainings are waiting to start on this server already "
                             "(--max-waiting-trainings); try again later" % waiting,
                             retry_after=_RETRY_AFTER)

    async def _submit(self, model: ModelWrapper, kwargs: dict[str, Any], files: set[str],
                      urls: dict[str, str] | None, wanted: Resources,
                      declared: dict[str, Any]) -> Job:
        if not model.provides("train") or model.source is None:
            raise NotProvided("Not implemented by underlying model (loaded '%s')" % model.name)
        job = Job(uuid=new_job_id(), model=model.name,
                  args=display_args(model.train_args, kwargs, urls),
                  date=datetime.datetime.now(), owner=self._replica.id,
                  # the record keeps DEEPaaS 2.x's shape unless resources were asked for
                  resources=wanted.shown() if wanted.constrained else None)
        self.layout.make(job.uuid)
        kwargs = self.layout.adopt_uploads(job.uuid, kwargs, files)
        await self._store.put(job)
        self._active[job.uuid] = Active(job, model, kwargs, LogShipper(self.layout.log(job.uuid)),
                                        wanted, declared)
        self._queue.append(job.uuid)
        self._schedule()
        return job

    async def cancel(self, model: str, uuid: str) -> Job:
        """Cancel a queued or running training (and every process it started); answer the
        record.

        A training another server runs is cancelled by that server, asked through the shared
        store; this answers once it is recorded as ended (or, past a bound, as it stands).
        """
        job = await self.get(model, uuid)  # 404 for an unknown job, before anything happens
        active = self._active.get(uuid)
        if active is not None:
            if active.job.status is JobStatus.QUEUED:
                await self._drop_queued(active, JobStatus.CANCELLED, None)
            else:
                await self._stop(active, cancelled=True)
        elif self._store.shared and not job.status.is_terminal():
            await self._store.request_cancel(uuid)
            deadline = time.monotonic() + self._grace + 3 * self._replica.beat + 10
            while not job.status.is_terminal() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                job = await self.get(model, uuid)
        return await self.get(model, uuid)

    # --- internals -------------------------------------------------------------------------

    def _can_start(self, model: str) -> bool:
        running = [a for a in self._active.values() if a.job.status is JobStatus.RUNNING]
        if self._limits.total and len(running) >= self._limits.total:
            return False
        per_model = self._limits.per_model
        return not per_model or sum(a.job.model == model for a in running) < per_model

    def _schedule(self) -> None:
        """Start every waiting training the limits and the free resources allow, oldest
        first; one whose resources are not free yet lets a later one that fits go first."""
        for uuid in list(self._queue):
            active = self._active[uuid]
            if not self._can_start(active.job.model):
                continue
            placement = self._executor.capacity.take(uuid, active.asked)
            if placement is None:
                self._look_again()
                continue
            self._queue.remove(uuid)
            active.placement = placement
            if active.asked.constrained:
                active.job.placement = placement.shown()
            active.job.status = JobStatus.RUNNING  # counts against the limits at once
            active.task = asyncio.create_task(self._run(active), name="train-" + uuid)

    def _look_again(self) -> None:
        if self._again is None:
            self._again = asyncio.get_running_loop().call_later(_RESOURCES_AGAIN,
                                                                 self._looked_again)

    def _looked_again(self) -> None:
        self._again = None
        self._schedule()

    async def _run(self, active: Active) -> None:
        job = active.job
        try:
            active.proc = await self._executor.start(process.Launch(
                job_id=job.uuid, name=job.model, source=active.model.source or "",
                kwargs=active.kwargs, warm=self._warm, log_path=self.layout.log(job.uuid),
                data_dir=self._data_dir, tmp_dir=self._tmp_dir,
                # read once, at submit: the module's metadata is not asked again here
                resources=active.declared if self._executor.wants_resources else {},
                output_dir=self.layout.output(job.uuid), grace=self._grace,
                asked=active.asked, placement=active.placement))
        except Exception as exc:
            LOG.exception("training %s of %s could not start", job.uuid, job.model)
            await self._end(active, process.Outcome(False, message="could not start: %s"
                                                       % message_of(exc)))
            return
        job.pid, job.start_date = active.proc.pid, datetime.datetime.now()
        if active.cancelled or active.stopped:  # asked to stop while it was starting
            await active.proc.terminate(self._grace)
        await self._store.put(job)
        LOG.info("training %s of %s started (pid %s)", job.uuid, job.model, job.pid)
        watcher = asyncio.create_task(self._watch_progress(active))
        outcome = await active.proc.wait()
        await watcher
        await self._end(active, outcome)

    async def _watch_progress(self, active: Active) -> None:
        assert active.proc is not None
        last_flush = time.monotonic()
        async for report in active.proc.reports():
            fold_report(active.job, report)
            if time.monotonic() - last_flush >= _FLUSH_EVERY:
                await self._flush(active)
                last_flush = time.monotonic()

    async def _flush(self, active: Active, last: bool = False) -> None:
        async with active.flushing:
            new = active.job.metrics[active.flushed:]
            if new:
                await self._store.add_metrics(active.job.uuid, new)
                active.flushed += len(new)
            if active.proc is not None:
                active.job.pid = active.proc.pid  # known late on a cluster
                placed = getattr(active.proc, "placement", None)  # so is the node (Ray's)
                if placed is not None and active.asked.constrained:
                    active.job.placement = placed.shown()
            if self._store.shared:
                await active.log.ship(self._store, active.job.uuid, everything=last)
            await self._store.put(active.job)

    async def _end(self, active: Active, outcome: process.Outcome) -> None:
        job = active.job
        self._active.pop(job.uuid, None)
        self._executor.capacity.release(job.uuid)
        self.layout.remove_uploads(job.uuid)
        job.files = await settle(self.layout.output(job.uuid), job.uuid, self._outputs,
                                 self.layout.log(job.uuid))
        await self._flush(active, last=True)
        if active.cancelled:
            await self._finish(job, JobStatus.CANCELLED)
        elif active.stopped:
            await self._finish(job, JobStatus.ERROR, message=STOPPED_RUNNING)
        elif outcome.ok:
            await self._finish(job, JobStatus.DONE, output=outcome.output)
        else:
            await self._finish(job, JobStatus.ERROR, message=outcome.message)
        LOG.info("training %s of %s ended: %s", job.uuid, job.model, job.status.value)
        active.done.set()
        self._schedule()

    async def _finish(self, job: Job, status: JobStatus, output: Any = None,
                      message: str | None = None) -> None:
        end(job, status, output, message)
        await self._store.put(job)
        if self._on_end is not None:
            try:
                await self._on_end(job)
            except Exception:
                LOG.exception("training %s of %s: the hook on its end failed", job.uuid,
                              job.model)

    async def _drop_queued(self, active: Active, status: JobStatus, message: str | None) -> None:
        self._queue.remove(active.job.uuid)
        self._active.pop(active.job.uuid, None)
        self.layout.remove_uploads(active.job.uuid)
        await self._finish(active.job, status, message=message)
        active.done.set()

    async def _stop(self, active: Active, cancelled: bool) -> None:
        """Terminate a running training and wait until it is recorded as ended."""
        active.cancelled, active.stopped = cancelled, not cancelled
        if active.proc is not None:
            await active.proc.terminate(self._grace)
        if active.task is not None:
            await asyncio.shield(active.task)
        else:
            await active.done.wait()


async def _nothing() -> AsyncIterator[bytes]:
    """An empty log: its folder is gone."""
    return
    yield

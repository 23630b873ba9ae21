"""The job store as an index of the job folders: no failure of the store loses a record.

Every write goes to the training's folder first (:mod:`deepaas.jobs.folders`), then to the
store. When the store fails at run time (disk full, a damaged file, a database away, a lock),
nothing is raised to the job manager: the record is kept in its folder and in memory, reads
answer from there, and a background task writes the store again with growing pauses. For the
server's own index (SQLite) it reopens the file, which moves a damaged one aside, and rebuilds
what the index lacks from the folders. Meanwhile :attr:`IndexedStore.problem` says why (the
readiness probe answers 503 with it), and the log says so once, then once more on recovery.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
from pathlib import Path
from typing import Any

from deepaas.exceptions import ConfigError, DeepaasError, summary_of
from deepaas.jobs.folders import JobFolders, metrics_text, record_text
from deepaas.jobs.records import Job, JobStatus
from deepaas.jobs.store import JobStore

__all__ = ["IndexedStore", "Reconciled"]

LOG = logging.getLogger(__name__)

_RETRY_FIRST, _RETRY_MOST = 0.5, 30.0  # seconds between repairs: doubling up to the bound
_STRIPES = 16  # write locks, chosen by uuid: one training's writes never overlap


@dataclasses.dataclass(frozen=True)
class Reconciled:
    """What checking the index against the job folders found and did."""

    folders: int  # records found in the job folders
    indexed: int  # records the index held before
    missing: int  # records it lacked: written to it
    behind: int  # records it held in an older state than their folder's: written to it

    @property
    def written(self) -> int:
        return self.missing + self.behind


class IndexedStore:
    """A :class:`~deepaas.jobs.store.JobStore` that keeps each record in its job's folder
    (under ``jobs_dir``) and indexes it in ``index`` (SQLite or PostgreSQL)."""

    def __init__(self, index: JobStore, jobs_dir: Path) -> None:
        self.shared = index.shared
        self.folders = JobFolders(jobs_dir)
        #: Why records cannot be written to the store now; None while they can.
        self.problem: str | None = None
        self._index = index
        # Records the index is behind on: the latest one given (None: the one in its folder).
        self._pending: dict[str, Job | None] = {}
        self._logs: list[tuple[str, int, bytes]] = []  # log chunks the store did not take
        self._reopen = False  # a read failed: the file itself may be damaged
        self._locks = [asyncio.Lock() for _ in range(_STRIPES)]
        self._wake = asyncio.Event()
        self._repairs: asyncio.Task[None] | None = None
        #: What the last :meth:`reconcile` found (at :meth:`open`, for the server's own index).
        self.reconciled: Reconciled | None = None

    @property
    def index(self) -> JobStore:
        """The SQLite or PostgreSQL store under the folders: other tables of the same database
        (the asynchronous predictions') use its connection, which this object opens, repairs
        and closes."""
        return self._index

    # --- life cycle ------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the index and check it against the job folders: the server's own index gets
        what it lacks at once (a shared one is the operator's: see :meth:`reconcile`). Any
        failure is a :class:`ConfigError` that says why, and leaves nothing open."""
        try:
            await self._index.open()
            await self._fill_folders()
            if not self.shared:
                self._log_rebuilt(await self.reconcile())
        except BaseException as exc:
            await self._index.close()
            if isinstance(exc, DeepaasError) or not isinstance(exc, Exception):
                raise
            raise ConfigError("cannot open the job store: %s" % summary_of(exc)) from exc
        self._repairs = asyncio.create_task(self._repair_forever(), name="job-store-repair")

    async def close(self) -> None:
        """Stop repairing; a last try to write what the index lacks, then close it."""
        if self._repairs is not None:
            self._repairs.cancel()
            await asyncio.gather(self._repairs, return_exceptions=True)
            self._repairs = None
        if self._pending or self._logs:
            try:
                await self._catch_up()
            except Exception as exc:
                LOG.error("%d training record(s) were not written to the job store (%s); "
                          "their job folders keep them: %s", len(self._pending),
                          summary_of(exc), "deepaas-run --import-jobs copies them into it"
                          if self.shared else "the next start writes them to it")
        await self._index.close()

    async def reconcile(self) -> Reconciled:
        """Write to the index every folder's record that it lacks, or holds in an older state.

        A folder's record is written before the index's, so it is never the older one; a
        record the index holds as ended stays as it is (the first ending wins).
        """
        records = await asyncio.to_thread(self.folders.records)
        known = await self._index.statuses()
        missing = behind = 0
        for job in records:  # oldest first: the index keeps the order of submission
            status = known.get(job.uuid)
            if status is None:
                missing += 1
            elif status is not job.status and not status.is_terminal():
                behind += 1
            else:
                continue
            async with self._lock(job.uuid):  # read again: a write may have come meanwhile
                latest = await asyncio.to_thread(self.folders.read, job.uuid)
                await self._sync(latest or job)
        self.reconciled = Reconciled(len(records), len(known), missing, behind)
        return self.reconciled

    def _log_rebuilt(self, found: Reconciled) -> None:
        if not found.written:
            return
        why = ("it held no records" if not found.indexed else
               "it lacked %d of their records and held %d in an older state"
               % (found.missing, found.behind))
        LOG.warning("rebuilt the job index from %d job folders: %s", found.folders, why)

    async def _fill_folders(self) -> None:
        """Write into job folders of an earlier release (whose records the store alone kept)
        their records: from now on the folders hold every record."""
        lacking = await asyncio.to_thread(self.folders.lacking, await self._index.statuses())
        for uuid in lacking:
            job = await self._index.get(uuid)
            if job is not None:
                await asyncio.to_thread(self.folders.fill, job)
        if lacking:
            LOG.info("wrote the records of %d job folders from the job store", len(lacking))

    # --- writes: to the folder, then to the index --------------------------------------------

    def _lock(self, uuid: str) -> asyncio.Lock:
        return self._locks[hash(uuid) % _STRIPES]

    async def put(self, job: Job) -> bool:
        """Write the record to its folder, then to the index. A failure is repaired in the
        background, never raised: the record stays readable meanwhile."""
        text = record_text(job)  # now: the live record may change while this waits
        async with self._lock(job.uuid):
            behind = job.uuid in self._pending
            try:
                kept = await asyncio.to_thread(self.folders.write, job.uuid, text)
            except OSError as exc:
                kept = None
                self._behind(job.uuid, job, exc)
            if behind:  # the repair writes it to the index, after what came before
                self._pending[job.uuid] = job
                return kept is not False
            try:
                return await self._index.put(job)
            except Exception as exc:
                self._behind(job.uuid, job, exc)
                return kept is not False

    async def add_metrics(self, uuid: str, points: list[dict[str, Any]]) -> None:
        """Append points to the folder's series, then to the index's."""
        text = metrics_text(points)
        async with self._lock(uuid):
            try:
                await asyncio.to_thread(self.folders.append_metrics, uuid, text)
            except OSError as exc:
                self._behind(uuid, None, exc)  # the repair writes the whole series again
            if uuid in self._pending:
                return
            try:
                await self._index.add_metrics(uuid, points)
            except Exception as exc:
                self._behind(uuid, None, exc)

    async def append_log(self, uuid: str, start: int, data: bytes) -> None:
        """Store a log chunk (shared stores); one the store refuses waits for the repair."""
        if not self._logs:
            try:
                await self._index.append_log(uuid, start, data)
                return
            except Exception as exc:
                self._trouble(exc)
        self._logs.append((uuid, start, data))

    def _behind(self, uuid: str, job: Job | None, exc: BaseException) -> None:
        if job is not None or uuid not in self._pending:
            self._pending[uuid] = job
        self._trouble(exc)

    def _trouble(self, exc: BaseException) -> None:
        reason = summary_of(exc)
        if self.problem is None:
            LOG.error("the job store cannot be written (%s): trainings go on, their records are "
                      "kept in their job folders and written to the store once it works again",
                      reason)
        self.problem = reason
        self._wake.set()

    # --- reads: from the index, else from the folders ------------------------------------------

    def _read_failed(self, exc: BaseException) -> None:
        """A read of the index failed: repair it in the background; say so once."""
        self._reopen = True
        self._trouble(exc)

    async def _folder_records(self, exc: BaseException) -> list[Job]:
        """Every record, from the folders, after a read of the index failed with ``exc``."""
        self._read_failed(exc)
        return await asyncio.to_thread(self.folders.records)

    async def get(self, uuid: str) -> Job | None:
        """The record with its metrics series: from the folder where the index is behind on
        it, fails, or lacks it."""
        if uuid not in self._pending:
            try:
                found = await self._index.get(uuid)
            except Exception as exc:
                self._read_failed(exc)
            else:
                if found is not None:
                    return found
        job = self._pending.get(uuid)
        if job is not None and job.metrics:
            return job
        stored = await asyncio.to_thread(self.folders.read, uuid)
        if job is None:
            return stored
        return dataclasses.replace(job, metrics=stored.metrics if stored is not None else [])

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[Job]:
        """Records of a model, oldest first, without their metrics series."""
        try:
            found = await self._index.find(model, statuses, limit, offset)
        except Exception as exc:
            found = [job for job in await self._folder_records(exc)
                     if job.model == model and (not statuses or job.status in statuses)]
            found = found[offset:None if limit is None else offset + limit]
        return [self._pending.get(job.uuid) or job for job in found]

    async def counts(self) -> dict[tuple[str, str], int]:
        """``{(model, status): number of jobs}``."""
        try:
            return await self._index.counts()
        except Exception as exc:
            records = await self._folder_records(exc)
        return dict(collections.Counter((job.model, job.status.value) for job in records))

    async def unfinished(self) -> list[Job]:
        """Records still queued or running, oldest first."""
        try:
            return await self._index.unfinished()
        except Exception as exc:
            records = await self._folder_records(exc)
        return [job for job in records if not job.status.is_terminal()]

    async def statuses(self) -> dict[str, JobStatus]:
        """``{uuid: status}`` of every record in the index."""
        return await self._index.statuses()

    # --- what only the index holds: replicas, cancel requests, shared logs ---------------------

    async def heartbeat(self, replica: str, host: str) -> None:
        await self._index.heartbeat(replica, host)

    async def leave(self, replica: str) -> None:
        await self._index.leave(replica)

    async def orphans(self, stale_after: float) -> list[Job]:
        return await self._index.orphans(stale_after)

    async def request_cancel(self, uuid: str) -> None:
        await self._index.request_cancel(uuid)

    async def cancel_requests(self, uuids: list[str]) -> set[str]:
        return await self._index.cancel_requests(uuids)

    async def read_log(self, uuid: str, offset: int = 0) -> bytes:
        return await self._index.read_log(uuid, offset)

    # --- repair --------------------------------------------------------------------------------

    async def _repair_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pause, attempt = _RETRY_FIRST, 0
            while True:
                try:
                    await self._repair(reopen=not self.shared and (self._reopen or attempt > 0))
                    break
                except Exception as exc:
                    self.problem = summary_of(exc)  # said once already: not logged again
                await asyncio.sleep(pause)
                pause, attempt = min(pause * 2, _RETRY_MOST), attempt + 1

    async def _repair(self, reopen: bool) -> None:
        """One try: reopen the server's own index (a damaged file is moved aside) and rebuild
        what it lacks from the folders, if asked; then write what it is behind on."""
        if reopen:
            await self._index.close()
            await self._index.open()
            self._reopen = False
            self._log_rebuilt(await self.reconcile())
        written = 0
        while self._pending or self._logs:  # more may fall behind while this writes
            written += await self._catch_up()
        if self.problem is not None:
            LOG.warning("the job store works again: %d training record(s) written to it that "
                        "it had missed", written)
            self.problem = None

    async def _catch_up(self) -> int:
        """Write what the index is behind on; answers how many records."""
        written = 0
        for uuid in list(self._pending):
            async with self._lock(uuid):
                if uuid not in self._pending:
                    continue
                job = self._pending[uuid]
                if job is not None:  # its folder may have missed it too
                    text, series = record_text(job), metrics_text(job.metrics)
                    await asyncio.to_thread(self.folders.write, uuid, text)
                    if series:
                        await asyncio.to_thread(self.folders.replace_metrics, uuid, series)
                job = job or await asyncio.to_thread(self.folders.read, uuid)
                if job is not None:
                    await self._sync(job)
                    written += 1
                del self._pending[uuid]
        while self._logs:
            await self._index.append_log(*self._logs[0])
            del self._logs[0]
        return written

    async def _sync(self, job: Job) -> None:
        """Write ``job`` to the index, with the metrics points it lacks."""
        stored = await self._index.get(job.uuid)
        await self._index.put(job)
        series = job.metrics or await asyncio.to_thread(self.folders.metrics, job.uuid)
        have = 0 if stored is None else len(stored.metrics)
        if len(series) > have:
            await self._index.add_metrics(job.uuid, series[have:])

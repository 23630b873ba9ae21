"""This server among the others that share one job store (replicas), and the books it closes.

Each replica runs the trainings submitted to it and, over a shared store, beats a heartbeat,
shows the progress and logs of its trainings there, obeys the cancel requests that other
replicas leave there, and closes the books of a replica whose heartbeat stopped. Over a store
of its own, a server closes at start the books its previous run left open.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from deepaas.jobs.active import Active
from deepaas.jobs.executor import Executor
from deepaas.jobs.layout import JobLayout
from deepaas.jobs.records import Job, JobStatus, end
from deepaas.jobs.sharing import new_replica_id
from deepaas.jobs.store import JobStore

__all__ = ["Replica", "STOPPED_RUNNING", "STOPPED_QUEUED"]

LOG = logging.getLogger(__name__)

STOPPED_RUNNING = "the server stopped while this training was running"
STOPPED_QUEUED = "the server stopped before this training started"

Flush = Callable[[Active], Awaitable[None]]
Cancel = Callable[[str, str], Coroutine[Any, Any, Job]]


class Replica:
    """This server's part in the job store it uses.

    ``active`` is the job manager's own view of the trainings it holds (queued or running),
    read here, never changed: those are never another server's to close.
    """

    def __init__(self, store: JobStore, executor: Executor, layout: JobLayout,
                 active: Mapping[str, Active], timeout: float) -> None:
        self.id = new_replica_id()
        self._store = store
        self._executor = executor
        self._layout = layout
        self._active = active
        self._timeout = timeout
        self.beat = max(timeout / 5, 0.2)  # seconds between heartbeats and syncs
        self._sync: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Job]] = set()  # cancels asked for by other servers

    async def join(self, flush: Flush, cancel: Cancel) -> None:
        """Close the books on trainings that a stopped server left unfinished (a previous run
        of this one, or a replica gone silent); over a shared store, keep in sync from now on:
        ``flush`` shows a running training's progress and log, ``cancel`` stops a training."""
        if self._store.shared:
            await self._store.heartbeat(self.id, socket.gethostname())
            await self.close_orphans(await self._store.orphans(self._timeout))
            self._sync = asyncio.create_task(self._keep_in_sync(flush, cancel),
                                             name="jobs-sync")
        else:
            await self.close_orphans(await self._store.unfinished())

    async def stop_syncing(self) -> None:
        if self._sync is not None:
            self._sync.cancel()
            await asyncio.gather(self._sync, return_exceptions=True)

    async def leave(self) -> None:
        """Say so to the others (after this server's trainings ended)."""
        if self._store.shared:
            await self._store.leave(self.id)

    async def close_orphans(self, orphans: list[Job]) -> None:
        """End in error the trainings a stopped server left queued or running (those this
        server holds aside), and kill what they may have left running."""
        mine = [job for job in orphans if job.uuid not in self._active]
        if not mine:
            return
        self._executor.kill_leftovers(job.uuid for job in mine)
        for job in mine:
            running = job.status is JobStatus.RUNNING
            end(job, JobStatus.ERROR, message=STOPPED_RUNNING if running else STOPPED_QUEUED)
            await self._store.put(job)
            self._layout.remove_uploads(job.uuid)
        LOG.warning("%d training(s) were interrupted by a server's stop", len(mine))

    async def _keep_in_sync(self, flush: Flush, cancel: Cancel) -> None:
        """Heartbeat, show progress, obey cancel requests, reap silent replicas' jobs."""
        while True:
            await asyncio.sleep(self.beat)
            try:
                await self._store.heartbeat(self.id, socket.gethostname())
                for active in list(self._active.values()):
                    if active.proc is not None:  # others see its progress and log grow
                        await flush(active)
                await self._obey_cancel_requests(cancel)
                await self.close_orphans(await self._store.orphans(self._timeout))
            except Exception:  # the database may be away for a moment: try again next beat
                LOG.exception("could not sync with the shared job store")

    async def _obey_cancel_requests(self, cancel: Cancel) -> None:
        for uuid in await self._store.cancel_requests(list(self._active)):
            found = self._active.get(uuid)
            if found is None or found.cancelled:
                continue
            LOG.info("training %s: cancel requested through another server", uuid)
            task = asyncio.create_task(cancel(found.job.model, uuid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

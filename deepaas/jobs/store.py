"""Where job records live: the interface the manager relies on.

Two implementations: :class:`~deepaas.jobs.sqlite.SQLiteStore` (the default, one server) and
:class:`~deepaas.jobs.postgres.PostgresStore` (``--job-store postgresql://...``), which several
servers (replicas) share. Both create and migrate their schema in :meth:`JobStore.open`.

Either is an index of the records kept in the job folders (:mod:`deepaas.jobs.folders`):
:class:`~deepaas.jobs.indexed.IndexedStore` puts each write there first, and the server builds
the index again from the folders when it is lost or damaged.
"""

from __future__ import annotations

from typing import Any, Protocol

from deepaas.jobs.records import Job, JobStatus

__all__ = ["JobStore"]


class JobStore(Protocol):
    """Storage of job records, keyed by uuid, listed in submission order.

    Every call is one transaction, safe against other servers writing at the same time.
    """

    #: True when other servers may use the same store (they must then be told apart).
    shared: bool

    async def open(self) -> None:
        """Connect, then create or migrate the schema (one server at a time does it)."""

    async def close(self) -> None: ...

    async def put(self, job: Job) -> bool:
        """Insert or update the record (not its metrics series, logs or cancel request).

        A record already in a terminal state is never changed again: the first ending wins.
        Answers False when that kept the stored record as it was.
        """

    async def add_metrics(self, uuid: str, points: list[dict[str, Any]]) -> None:
        """Append points to the job's metrics series."""

    async def get(self, uuid: str) -> Job | None:
        """The record with its full metrics series."""

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[Job]:
        """Records of a model, oldest first, without their metrics series."""

    async def counts(self) -> dict[tuple[str, str], int]:
        """``{(model, status): number of jobs}``, for metrics."""

    async def unfinished(self) -> list[Job]:
        """Records still queued or running, oldest first."""

    async def statuses(self) -> dict[str, JobStatus]:
        """``{uuid: status}`` of every record: what the job folders are checked against."""

    # --- several servers over one store ------------------------------------------------------

    async def heartbeat(self, replica: str, host: str) -> None:
        """Record that server ``replica`` (running on ``host``) is alive now, by the store's
        clock, so that servers whose clocks differ still agree."""

    async def leave(self, replica: str) -> None:
        """Forget server ``replica`` (it stopped cleanly)."""

    async def orphans(self, stale_after: float) -> list[Job]:
        """Unfinished records whose owner has sent no heartbeat for ``stale_after`` seconds
        (or never did, or is unknown)."""

    async def request_cancel(self, uuid: str) -> None:
        """Ask the job's owner to cancel it (it reads the request with ``cancel_requests``)."""

    async def cancel_requests(self, uuids: list[str]) -> set[str]:
        """Which of ``uuids`` someone asked to cancel."""

    async def append_log(self, uuid: str, start: int, data: bytes) -> None:
        """Store ``data``, the bytes of the job's log from byte offset ``start``."""

    async def read_log(self, uuid: str, offset: int = 0) -> bytes:
        """The job's stored log from byte ``offset`` to what was stored last."""

"""Where job records live: the interface the manager relies on."""

from __future__ import annotations

from typing import Any, Protocol

from deepaas.jobs.records import Job, JobStatus

__all__ = ["JobStore"]


class JobStore(Protocol):
    """Storage of job records, keyed by uuid, listed in submission order.

    Every call is one transaction. A server database (PostgreSQL) can implement the same
    methods without touching the manager or the handlers.
    """

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def put(self, job: Job) -> None:
        """Insert or update the record (not its metrics series)."""

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
        """Records still queued or running (after a crash: the jobs it interrupted)."""

"""Where job records live. In memory for now; the interface is what the manager relies on."""

from __future__ import annotations

from typing import Protocol

from deepaas.jobs.records import Job

__all__ = ["JobStore", "MemoryStore"]


class JobStore(Protocol):
    """Storage of job records, keyed by uuid, listed in submission order."""

    async def put(self, job: Job) -> None: ...

    async def get(self, uuid: str) -> Job | None: ...

    async def list(self, model: str) -> list[Job]: ...


class MemoryStore:
    """Records in a dict: lost on restart."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    async def put(self, job: Job) -> None:
        self._jobs[job.uuid] = job

    async def get(self, uuid: str) -> Job | None:
        return self._jobs.get(uuid)

    async def list(self, model: str) -> list[Job]:
        return [job for job in self._jobs.values() if job.model == model]

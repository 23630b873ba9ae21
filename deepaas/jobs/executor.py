"""Where trainings run: the interface the job manager drives, and the local default.

An :class:`Executor` starts a training described by a :class:`~deepaas.jobs.process.Launch`
and hands back an :class:`Execution`: its progress reports, its outcome, and a way to stop it
for real. Local processes are the default; ``deepaas.cluster.training`` runs them on Ray.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

from deepaas.jobs import process
from deepaas.jobs.process import Launch, Outcome

__all__ = ["Execution", "Executor", "LocalExecutor", "Launch", "Outcome"]


class Execution(Protocol):
    """One running training, wherever it runs."""

    @property
    def pid(self) -> int | None:
        """The training process's id where it runs (None until known)."""

    def reports(self) -> AsyncIterator[dict[str, Any]]:
        """Progress reports as the training sends them, until it ends."""

    async def wait(self) -> Outcome:
        """Wait for the end; everything the training wrote is in its log file by then."""

    async def terminate(self, grace: float) -> None:
        """Stop it: politely, then by force after ``grace`` seconds; return once it is gone."""


class Executor(Protocol):
    """Starts trainings somewhere."""

    #: Whether it places trainings by the resources modules declare (the manager then reads
    #: them from the module's metadata, which it otherwise leaves alone).
    wants_resources: bool

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def start(self, launch: Launch) -> Execution: ...

    def kill_leftovers(self, job_ids: Iterable[str]) -> None:
        """Kill what interrupted trainings (of a server that died) may have left running."""


class LocalExecutor:
    """Each training in a process group of its own on this machine."""

    wants_resources = False

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def start(self, launch: Launch) -> Execution:
        return await process.start(launch)

    def kill_leftovers(self, job_ids: Iterable[str]) -> None:
        process.kill_leftovers(job_ids)


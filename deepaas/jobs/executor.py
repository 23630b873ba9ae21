"""Where trainings run: the interface the job manager drives, and the local default.

An :class:`Executor` starts a training described by a :class:`~deepaas.jobs.process.Launch`
and hands back an :class:`Execution`: its progress reports, its outcome, and a way to stop it
for real. Local processes are the default; ``deepaas.cluster.training`` runs them on Ray.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, Protocol

from deepaas.jobs import process, tracking
from deepaas.jobs.process import Launch, Outcome
from deepaas.resources.inventory import Node, detect_local
from deepaas.resources.placement import Capacity, LocalAllocation

__all__ = ["Execution", "Executor", "LocalExecutor", "Launch", "Outcome"]

LOG = logging.getLogger(__name__)


class Execution(Protocol):
    """One running training, wherever it runs."""

    @property
    def pid(self) -> int | None:
        """The training process's id where it runs (None until known)."""

    def reports(self) -> AsyncIterator[dict[str, Any]]:
        """Progress reports as the training sends them, until it ends."""

    async def wait(self) -> Outcome:
        """Wait for the end; everything the training wrote is in its log file by then, and
        nothing it started runs any more (what was left got SIGTERM, then SIGKILL after the
        launch's grace)."""

    async def terminate(self, grace: float) -> None:
        """Stop it and every process it started: politely, then by force after ``grace``
        seconds; return once it is gone."""


class Executor(Protocol):
    """Starts trainings somewhere."""

    #: Whether it places trainings by the resources modules declare (the manager then reads
    #: them from the module's metadata, which it otherwise leaves alone).
    wants_resources: bool
    @property
    def capacity(self) -> Capacity:
        """The resources it places trainings on: known once :meth:`open` returned."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def start(self, launch: Launch) -> Execution: ...

    def kill_leftovers(self, job_ids: Iterable[str]) -> None:
        """Kill what interrupted trainings (of a server that died) may have left running."""


class LocalExecutor:
    """Each training in a process group, and where the machine allows it a cgroup v2, of its
    own on this machine (``cgroups=False``: never a cgroup; its job id finds its processes)."""

    wants_resources = False

    def __init__(self, cgroups: bool = True, site: str = "") -> None:
        self._cgroups = cgroups
        self._site = site
        self._home: Path | None = None
        self.capacity: LocalAllocation = LocalAllocation(Node("", site, (), (), 0))

    async def open(self) -> None:
        self.capacity = LocalAllocation(await asyncio.to_thread(detect_local, self._site))
        self._home = tracking.cgroup_home() if self._cgroups else None
        LOG.info("a training's processes are found by %s", "their cgroup under %s" % self._home
                 if self._home is not None else "the job id in their environment")

    async def close(self) -> None:
        pass

    async def start(self, launch: Launch) -> Execution:
        return await process.start(launch, self._home)

    def kill_leftovers(self, job_ids: Iterable[str]) -> None:
        tracking.kill_leftovers(job_ids, self._home)

"""Where a training was placed, and the allocation of one machine's resources."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from deepaas.exceptions import ResourcesUnavailable
from deepaas.resources.inventory import Node
from deepaas.resources.request import Resources

__all__ = ["Capacity", "Placement", "LocalAllocation", "sizes"]


@dataclasses.dataclass(frozen=True)
class Placement:
    """The node (and site) a training runs on and what it holds there: CPU and GPU ids (None:
    not pinned, it shares what is not held by others) and its memory limit."""

    node: str
    site: str
    cpus: tuple[int, ...] | None = None
    gpus: tuple[int, ...] | None = None
    memory: int | None = None

    def shown(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"node": self.node, "site": self.site}
        for key in ("cpus", "gpus", "memory"):
            value = getattr(self, key)
            if value is not None:
                shown[key] = list(value) if isinstance(value, tuple) else value
        return shown


class Capacity(Protocol):
    """The resources an executor places trainings on (this machine, or a Ray cluster)."""

    def check(self, asked: Resources) -> None:
        """Raise :class:`ResourcesUnavailable` (422) when ``asked`` can never be given."""

    def take(self, job: str, asked: Resources) -> Placement | None:
        """Hold what ``asked`` needs for ``job``; None when it is not free now (it waits)."""

    def release(self, job: str) -> None:
        """``job`` ended: what it held is free again."""

    def nodes(self) -> list[dict[str, Any]]:
        """Each node with what it has, what is held and what is free (``/v2/resources/``)."""


def sizes(value: int) -> str:
    """A size as people read it: 256 MiB, 1.5 GiB."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= size:
            return "%.4g %s" % (value / size, unit)
    return "%d bytes" % value


class LocalAllocation:
    """The CPUs, GPUs and memory of this machine, given to trainings that ask for them: each
    CPU and GPU to one training at a time, memory up to the machine's."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._held: dict[str, Placement] = {}

    def check(self, asked: Resources) -> None:
        """A :class:`ResourcesUnavailable` (422) naming what exists when ``asked`` can never
        be satisfied here, however long it waits."""
        node, problems = self.node, []
        if asked.cpus is not None and asked.cpus > len(node.cpus):
            problems.append("cpus=%d, but this machine has %d" % (asked.cpus, len(node.cpus)))
        if asked.gpus is not None and asked.gpus > len(node.gpus):
            problems.append("gpus=%d, but this machine has %d" % (asked.gpus, len(node.gpus)))
        if asked.memory is not None and asked.memory > node.memory:
            problems.append("memory=%s, but this machine has %s" % (sizes(asked.memory),
                                                                   sizes(node.memory)))
        if asked.site is not None and asked.site != node.site:
            problems.append("site=%s, but the only site is %s" % (
                asked.site, node.site or "unnamed (deepaas-run --site NAME names it)"))
        if problems:
            raise ResourcesUnavailable("These resources can never be given here: %s"
                                       % "; ".join(problems))

    def _free(self) -> tuple[list[int], list[int], int]:
        cpus_held = {c for p in self._held.values() for c in p.cpus or ()}
        gpus_held = {g for p in self._held.values() for g in p.gpus or ()}
        memory_held = sum(p.memory or 0 for p in self._held.values())
        return ([c for c in self.node.cpus if c not in cpus_held],
                [g.id for g in self.node.gpus if g.id not in gpus_held],
                self.node.memory - memory_held)

    def take(self, job: str, asked: Resources) -> Placement | None:
        """Hold what ``asked`` needs for ``job``; None when it is not free now."""
        cpus, gpus, memory = self._free()
        if (asked.cpus or 0) > len(cpus) or (asked.gpus or 0) > len(gpus) or \
                (asked.memory or 0) > memory:
            return None
        placement = Placement(
            node=self.node.name, site=self.node.site,
            cpus=tuple(cpus[:asked.cpus]) if asked.cpus is not None else None,
            # None: it asked nothing of GPUs and sees them all, as under DEEPaaS 2.x (a
            # module that uses one without saying so keeps it); gpus=0 sees none
            gpus=tuple(gpus[:asked.gpus]) if asked.gpus is not None else None,
            memory=asked.memory)
        self._held[job] = placement
        return placement

    def release(self, job: str) -> None:
        self._held.pop(job, None)

    def nodes(self) -> list[dict[str, Any]]:
        """This machine with what is held and what is free, as ``/v2/resources/`` shows it."""
        cpus, gpus, memory = self._free()
        node = self.node
        return [{"name": node.name, "site": node.site,
                "cpus": {"total": len(node.cpus), "free": len(cpus), "ids": list(node.cpus),
                         "free_ids": cpus},
                "gpus": {"total": len(node.gpus), "free": len(gpus),
                         "devices": [g.shown() for g in node.gpus], "free_ids": gpus},
                "memory": {"total": node.memory, "free": memory},
                "trainings": {job: p.shown() for job, p in self._held.items()}}]


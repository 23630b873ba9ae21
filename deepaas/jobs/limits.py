"""What a training was given on this machine, enforced on its processes.

A :class:`~deepaas.resources.placement.Placement` names CPU ids, GPU ids and a memory limit
(None: not constrained, as under DEEPaaS 2.x). They are applied by the server between the
training process's start and the moment it reads its request, so before any of the module's
code runs and before it can start anything; everything it starts inherits them:

* CPUs: its affinity (``sched_setaffinity``), which its threads and children inherit;
* GPUs: ``CUDA_VISIBLE_DEVICES`` and ``NVIDIA_VISIBLE_DEVICES`` in its environment (an empty
  value: no GPU), with ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` so that CUDA numbers the devices as
  ``nvidia-smi`` (and so the placement) does;
* memory: ``memory.max`` of its own cgroup v2 (its whole process tree, killed together when
  over it) where the machine offers the memory controller there, else an address-space limit
  (``RLIMIT_AS``) on each of its processes.

A training over its limit ends with :func:`exceeded_message` as its error: the parent reads
the cgroup's ``memory.events``; under ``RLIMIT_AS`` the training process itself turns the
``MemoryError`` into that message (it finds the limit in ``DEEPAAS_MEMORY_LIMIT``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import os
import resource
from pathlib import Path

from deepaas.resources.placement import Placement, sizes

__all__ = ["ENV_MEMORY_LIMIT", "Enforced", "apply", "cgroup_memory", "environment",
           "exceeded", "exceeded_message"]

LOG = logging.getLogger(__name__)
ENV_MEMORY_LIMIT = "DEEPAAS_MEMORY_LIMIT"
_GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")
# glibc reserves 64 MiB of address space for each thread's malloc arena: under RLIMIT_AS a
# module with a thread pool would run out of address space long before it ran out of memory.
_ARENAS = "2"
_SERVER_LEAF = "deepaas-server"  # where a server alone in its cgroup moves (_pass_memory_down)


def exceeded_message(limit: int) -> str:
    """The error of a training that went over its memory limit."""
    return "the training exceeded its memory limit of %s" % sizes(limit)


def exceeded(exc: BaseException) -> str | None:
    """In a training process: :func:`exceeded_message` when ``exc`` is running out of
    memory under the limit the server set (``RLIMIT_AS`` fails allocations, it kills
    nothing); None otherwise, so that the module's own error is reported as it is."""
    limit = os.environ.get(ENV_MEMORY_LIMIT, "")
    out_of_memory = isinstance(exc, MemoryError) or (
        isinstance(exc, OSError) and exc.errno == errno.ENOMEM)
    return exceeded_message(int(limit)) if out_of_memory and limit.isdigit() else None


def _words(path: Path) -> list[str]:
    return path.read_text().split()


def _pass_memory_down(own: Path) -> None:
    """Enable the memory controller below the server's own cgroup ``own``. cgroup v2 enables
    it only from a cgroup with no process of its own, so a server alone in its cgroup (a
    systemd service with ``Delegate=yes``, a container's only process) first moves into a
    leaf beside its trainings' folder; one that is not alone leaves everything as it is."""
    if "memory" in _words(own / "cgroup.subtree_control"):
        return
    if "memory" not in _words(own / "cgroup.controllers"):
        raise OSError(errno.ENOTSUP, "no memory controller in %s" % own)
    if _words(own / "cgroup.procs") == [str(os.getpid())]:
        leaf = own / _SERVER_LEAF
        leaf.mkdir(exist_ok=True)
        (leaf / "cgroup.procs").write_text(str(os.getpid()))
        LOG.info("moved the server into %s so that its trainings' cgroups get a memory "
                 "limit", leaf)
    (own / "cgroup.subtree_control").write_text("+memory")


def cgroup_memory(home: Path | None) -> bool:
    """Whether trainings' cgroups under ``home`` get a ``memory.max``: the memory controller
    is enabled for them (enabled here, and above where the server may, if it is not yet)."""
    if home is None:
        return False
    control = home / "cgroup.subtree_control"
    try:
        if "memory" in _words(control):
            return True
        if "memory" not in _words(home / "cgroup.controllers"):
            _pass_memory_down(home.parent)
        control.write_text("+memory")
    except OSError as exc:
        LOG.debug("no memory controller for the cgroups under %s: %s", home, exc)
        return False
    return True


def environment(placement: Placement | None, by_cgroup: bool) -> dict[str, str]:
    """What the training's environment gets (nothing where ``placement`` constrains
    nothing); ``by_cgroup``: its memory limit is its cgroup's."""
    env: dict[str, str] = {}
    if placement is None:
        return env
    if placement.gpus is not None:
        ids = ",".join(str(gpu) for gpu in placement.gpus)
        env.update(dict.fromkeys(_GPU_VARIABLES, ids), CUDA_DEVICE_ORDER="PCI_BUS_ID")
    if placement.memory is not None:
        env[ENV_MEMORY_LIMIT] = str(placement.memory)
        if not by_cgroup and "MALLOC_ARENA_MAX" not in os.environ:
            env["MALLOC_ARENA_MAX"] = _ARENAS
    return env


@dataclasses.dataclass(frozen=True)
class Enforced:
    """The memory limit a training runs under, and the cgroup that enforces it (None: an
    address-space limit, which the training process reports itself)."""

    memory: int | None = None
    cgroup: Path | None = None

    def overrun(self) -> str | None:
        """The training's error when its cgroup killed it for memory (read it before the
        cgroup is removed); None otherwise."""
        if self.memory is None or self.cgroup is None:
            return None
        try:
            text = (self.cgroup / "memory.events").read_text()
        except OSError:
            return None
        for line in text.splitlines():
            key, _, count = line.partition(" ")
            if key == "oom_kill" and count.strip() not in ("", "0"):
                return exceeded_message(self.memory)
        return None


def _limit_cgroup(path: Path, memory: int) -> bool:
    """``memory.max`` on the cgroup at ``path``, no swap to stretch it, and the whole tree
    killed at once when it is over (a half-killed training would only fail later, worse)."""
    try:
        (path / "memory.max").write_text(str(memory))
    except OSError:
        return False
    for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
        with contextlib.suppress(OSError):  # older kernels, or no swap accounting
            (path / name).write_text(value)
    return True


def apply(pid: int, placement: Placement | None, cgroup: Path | None) -> Enforced:
    """Pin the training process ``pid`` (not yet running the module) to its CPUs and limit
    its memory: by ``cgroup`` (its own cgroup v2, if any) where that works, else by
    ``RLIMIT_AS``. An OSError when it cannot be pinned: the training must not start."""
    if placement is None:
        return Enforced()
    if placement.cpus is not None:
        os.sched_setaffinity(pid, placement.cpus)
    memory = placement.memory
    if memory is None:
        return Enforced()
    if cgroup is not None and _limit_cgroup(cgroup, memory):
        return Enforced(memory, cgroup)
    resource.prlimit(pid, resource.RLIMIT_AS, (memory, memory))
    LOG.info("training process %d: its memory limit of %s is an address-space limit on each "
             "of its processes (no cgroup v2 memory controller here)", pid,
             sizes(memory))
    return Enforced(memory)

"""What a machine has: its CPUs (the ones this process may use), its NVIDIA GPUs and its
memory, found once at start."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["Gpu", "Node", "detect_local", "gpus_of_nvidia_smi"]

LOG = logging.getLogger(__name__)
_NVIDIA_SMI_TIMEOUT = 10.0  # seconds: a wedged driver must not hold the start for long


@dataclasses.dataclass(frozen=True)
class Gpu:
    """One GPU: its index (what ``CUDA_VISIBLE_DEVICES`` names), model and memory."""

    id: int
    model: str = ""
    memory: int | None = None  # bytes

    def shown(self) -> dict[str, Any]:
        return {"id": self.id, "model": self.model, "memory": self.memory}


@dataclasses.dataclass(frozen=True)
class Node:
    """A machine trainings run on."""

    name: str
    site: str
    cpus: tuple[int, ...]  # CPU ids
    gpus: tuple[Gpu, ...]
    memory: int  # bytes


def _memory_total() -> int:
    """The machine's memory, or the cgroup limit of this server when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def gpus_of_nvidia_smi(text: str) -> tuple[Gpu, ...]:
    """GPUs from ``nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,
    nounits`` (memory in MiB)."""
    found = []
    for line in text.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 3 or not parts[0].isdigit():
            continue
        memory = int(parts[2]) * 2**20 if parts[2].isdigit() else None
        found.append(Gpu(int(parts[0]), parts[1], memory))
    return tuple(found)


def _local_gpus() -> tuple[Gpu, ...]:
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return ()
    try:
        done = subprocess.run([tool, "--query-gpu=index,name,memory.total",
                               "--format=csv,noheader,nounits"], capture_output=True,
                              text=True, timeout=_NVIDIA_SMI_TIMEOUT, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        LOG.warning("nvidia-smi failed (%s): no GPUs are offered to trainings", exc)
        return ()
    return gpus_of_nvidia_smi(done.stdout)


def detect_local(site: str) -> Node:
    """This machine: the CPUs this process may run on, its GPUs (none without nvidia-smi),
    its memory. A blocking call (it may run nvidia-smi): run it in a thread."""
    cpus = tuple(sorted(os.sched_getaffinity(0)))
    return Node(name=os.uname().nodename, site=site, cpus=cpus, gpus=_local_gpus(),
                memory=_memory_total())

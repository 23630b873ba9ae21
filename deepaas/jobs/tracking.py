"""Every process a training started, found again so that none outlives it.

The training's process group is not enough: a process that calls ``setsid()`` leaves it, and
one that also ignores SIGTERM survives a polite stop. Two ways find such processes:

* a cgroup v2 of the training's own, ``<the server's cgroup>/deepaas/<job id>``, where the
  machine has cgroup v2 and lets the server write there. A process cannot leave it by itself
  (moving one takes write access to the cgroup tree), and the kernel kills it whole
  (``cgroup.kill``, Linux 5.14+).
* elsewhere, the job id that every process of the training inherits in its environment
  (``DEEPAAS_JOB_ID``), found by scanning ``/proc``. A process that both leaves the group and
  replaces its environment escapes this one.

Which one a training uses is decided when it starts (:func:`track`) and never fails it: where
a cgroup cannot be made or entered, the job id is used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

from deepaas.progress import ENV_JOB_ID

__all__ = ["Tracker", "CgroupTracker", "cgroup_home", "track", "processes_of",
           "kill_leftovers", "signal_all"]

LOG = logging.getLogger(__name__)
_FOLDER = "deepaas"  # made under the server's own cgroup; one cgroup per training inside


def _job_of(pid: str) -> str | None:
    try:
        environ = Path("/proc/%s/environ" % pid).read_bytes()
    except OSError:
        return None
    prefix = (ENV_JOB_ID + "=").encode()
    for item in environ.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix):].decode(errors="replace")
    return None


def processes_of(job_ids: Iterable[str]) -> list[int]:
    """Pids of the processes still running for ``job_ids``; Linux only (elsewhere none).

    A process is recognised by the job id in its environment, which every process a training
    starts inherits, so a reused pid of another program is never taken for one. A zombie has
    no environment left to read: it runs nothing and is not counted.
    """
    wanted = set(job_ids)
    if not wanted or not Path("/proc").is_dir():
        return []
    me = os.getpid()
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and int(entry.name) != me and _job_of(entry.name) in wanted]


def signal_all(pids: Iterable[int], sig: int) -> None:
    """Send ``sig`` to each of ``pids`` that still exists."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


class Tracker:
    """The processes of one training, found by the job id in their environment."""

    kind = "job id in the environment"

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id

    def pids(self) -> list[int]:
        """The training's processes still running (zombies excluded)."""
        return processes_of([self.job_id])

    def signal(self, sig: int) -> None:
        signal_all(self.pids(), sig)

    def kill(self) -> None:
        """SIGKILL every process of the training."""
        self.signal(signal.SIGKILL)

    def release(self) -> None:
        """Forget the training once nothing of it runs."""


class CgroupTracker(Tracker):
    """The processes of one training, held in a cgroup v2 of its own."""

    kind = "cgroup v2"

    def __init__(self, job_id: str, path: Path) -> None:
        super().__init__(job_id)
        self.path = path

    def adopt(self, pid: int) -> None:
        """Move ``pid`` (the training's first process, before it starts anything) in."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def pids(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text()
        except OSError:  # removed: nothing of it runs
            return []
        return [int(line) for line in text.split()]

    def kill(self) -> None:
        try:  # the kernel kills them all at once, forks in flight included
            (self.path / "cgroup.kill").write_text("1")
        except OSError:  # before Linux 5.14 there is no cgroup.kill
            self.signal(signal.SIGKILL)

    def release(self) -> None:
        with contextlib.suppress(OSError):  # still busy: the next start's sweep removes it
            self.path.rmdir()


def _cgroup2_mount() -> tuple[Path, str] | None:
    """Where the cgroup v2 hierarchy is mounted, and which of its folders that mount shows."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields, _, kind = line.partition(" - ")
        if kind.split(" ", 1)[0] == "cgroup2":
            parts = fields.split()
            # mountinfo writes a space in a path as \040
            return Path(parts[4].encode().decode("unicode_escape")), parts[3]
    return None


def _own_cgroup() -> str | None:
    """This process's cgroup v2 (its ``0::`` line in ``/proc/self/cgroup``)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    return next((line[3:] for line in lines if line.startswith("0::")), None)


def cgroup_home() -> Path | None:
    """The folder (made if need be) under which trainings get their cgroups: ``deepaas``
    under this process's own cgroup, so that whatever limits the server has, its trainings
    have too. None where there is no cgroup v2 (or v1 only) or it may not be written."""
    mount, own = _cgroup2_mount(), _own_cgroup()
    if mount is None or own is None:
        return None
    point, shown = mount
    inside = os.path.relpath(own, shown)
    if inside.startswith(".."):  # our cgroup is outside what the mount shows
        return None
    home = point / inside / _FOLDER
    try:
        home.mkdir(exist_ok=True)
    except OSError:  # read-only (a container's usual mount), or not ours to write
        return None
    return home if os.access(home / "cgroup.procs", os.W_OK) else None


def track(job_id: str, pid: int, home: Path | None) -> Tracker:
    """The tracker of the training whose first process is ``pid``: its own cgroup under
    ``home`` where that works, else its job id."""
    if home is not None:
        tracker = CgroupTracker(job_id, home / job_id)
        try:
            tracker.path.mkdir(exist_ok=True)
            tracker.adopt(pid)
            return tracker
        except OSError as exc:
            LOG.warning("training %s: no cgroup of its own (%s); its processes are found by "
                        "its job id instead", job_id, exc)
            tracker.release()
    return Tracker(job_id)


def kill_leftovers(job_ids: Iterable[str], home: Path | None = None) -> list[int]:
    """SIGKILL what trainings of a server that died left running: by their cgroups under
    ``home`` (removed once empty) and by their job id."""
    job_ids = list(job_ids)
    found = [CgroupTracker(job_id, home / job_id) for job_id in job_ids] if home else []
    found = [tracker for tracker in found if tracker.path.is_dir()]
    killed = [pid for tracker in found for pid in tracker.pids()]
    for tracker in found:
        tracker.kill()
    left = processes_of(job_ids)
    signal_all(left, signal.SIGKILL)
    killed += left
    deadline = time.monotonic() + 1.0  # SIGKILLed processes go in a moment; then the folders
    while any(t.pids() for t in found) and time.monotonic() < deadline:
        time.sleep(0.02)
    for tracker in found:
        tracker.release()
    if killed:
        LOG.warning("killed %d process(es) left over from interrupted trainings", len(killed))
    return killed

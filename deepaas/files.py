"""Temporary files: removed by the request, training or CLI call that owned them, or, when
their process died without cleaning up (``kill -9``), by the next server that starts.

Every temp file or folder deepaas makes is named ``deepaas-KIND-NS_PID-...`` by
:func:`owned_prefix`: the pid namespace and the pid of the process that made it. At start a
server removes, in the folders it uses for temp files, those whose process is gone. Several
servers (and deepaas-cli calls) may share a folder such as /tmp: a file is removed only when
its maker is known to be gone: no process with its pid, or one that started after the file was
made (the pid was reused). Files of another pid namespace (another container) are never
touched, since their processes cannot be seen from here.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

__all__ = ["owned_prefix", "remove_files", "sweep_orphans"]

LOG = logging.getLogger(__name__)

_OWNED = re.compile(r"deepaas-[a-z-]+?-(\d+)_(\d+)-")
# Start times are known to a clock tick after a boot time known to the second: a process that
# started up to this many seconds after a file's last change still counts as its maker.
_SLACK = 2.0


def remove_files(paths: Iterable[str]) -> None:
    """Delete each path; one already gone is no error (cleanups may race or repeat)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def owned_prefix(kind: str) -> str:
    """The start of the name of a temp file this process makes (``kind``: lower-case words
    joined by ``-``, such as ``upload``)."""
    return "deepaas-%s-%s_%d-" % (kind, _namespace(), os.getpid())


def sweep_orphans(folders: Iterable[Path]) -> int:
    """Remove what processes that are gone left in ``folders`` (named by
    :func:`owned_prefix`); answer how many files and folders were removed."""
    removed = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:  # no such folder (yet): nothing was left there
            continue
        for entry in entries:
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
                # ctime, not mtime: a hard link handed out by the cache keeps the mtime of
                # a download that may be older than its owner; ctime changes with the link.
                if not _owner_gone(entry.name, entry.stat(follow_symlinks=False).st_ctime):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed += 1
    if removed:
        LOG.info("removed %d temp files and folders left by processes that are gone", removed)
    return removed


def _owner_gone(name: str, changed: float) -> bool:
    found = _OWNED.match(name)
    if found is None or found.group(1) != _namespace():
        return False
    pid = int(found.group(2))
    if pid == os.getpid():
        return False
    started = _started(pid)
    return started is None or started > changed + _SLACK


@functools.cache
def _namespace() -> str:
    """The inode of this process's pid namespace ("0" where Linux's /proc does not say)."""
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return "0"
    return "".join(c for c in link if c.isdigit()) or "0"


def _started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch; 0.0 when unknown), or None
    when there is no such process."""
    if not _has_proc():  # whether the process exists is all one can know
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:  # another user's
            pass
        return 0.0
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            stat = handle.read()
    except FileNotFoundError:
        return None
    # The command name, in parentheses, may hold spaces: fields are counted after it;
    # the start time (in clock ticks after boot) is the 22nd field of the line.
    try:
        ticks = int(stat.rpartition(b")")[2].split()[19])
    except (IndexError, ValueError):  # not the format known: taken for a live maker
        return 0.0
    return _boot_time() + ticks / os.sysconf("SC_CLK_TCK")


@functools.cache
def _has_proc() -> bool:
    return os.path.isdir("/proc/self")


@functools.cache
def _boot_time() -> float:
    with open("/proc/stat", "rb") as handle:
        for line in handle:
            if line.startswith(b"btime "):
                return float(line.split()[1])
    return 0.0

"""One data folder, one server: a lock on ``DATA_DIR/server.lock``, held while it runs.

The data folder holds the SQLite job store, the job folders, the webhook outbox, the fetch
cache and what modules write under ``deepaas.data_dir()``; each of them assumes one writer. A
second server started on the folder would close the first one's trainings as interrupted and
kill their processes, so a server claims the folder when it starts, with ``flock(2)`` on the
lock file, and one that finds it held refuses to start, naming the holder. The kernel drops
the lock when its holder dies, however it dies (SIGKILL included): a crashed server never
leaves its folder locked. The file says who holds it (pid, host, address, start time), for the
refusal and for an operator; it is emptied when its holder lets go.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from deepaas.exceptions import ConfigError, DataDirInUse

__all__ = ["DataDirLock", "LOCK_FILE", "http_address"]

LOG = logging.getLogger(__name__)

LOCK_FILE = "server.lock"
SERVING = "give this server a folder of its own with --data-dir"
# Where flock(2) is not supported (some network and FUSE filesystems): the server goes on.
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}
# The holder writes who it is just after it took the lock: a refusal that comes in between
# reads the file again for up to this long before it names no one.
_READ_FOR = 1.0


def http_address(host: str, port: int) -> str:
    """``http://127.0.0.1:5000``, ``http://[::1]:5000``: where a server listens."""
    return "http://%s:%d" % ("[%s]" % host if ":" in host else host, port)


class DataDirLock:
    """The claim of one server (``address``: where it listens, or what it does) on the data
    folder ``folder``. :meth:`claim` takes it or raises :class:`DataDirInUse`, whose message
    ends with ``hint``; :meth:`close` lets go. Both may be called again: a claim already held
    and a lock already let go are left as they are. A context manager claims and lets go."""

    def __init__(self, folder: str | Path, address: str, hint: str = SERVING) -> None:
        self.folder = Path(folder).resolve()
        self.path = self.folder / LOCK_FILE
        self.address = address
        self._hint = hint
        self._fd: int | None = None
        self._started = datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds")

    @property
    def held(self) -> bool:
        """Whether this object holds the folder (or went on without a lock where the
        filesystem has none)."""
        return self._fd is not None

    def claim(self) -> None:
        """Make the folder if need be and take it for this process."""
        if self._fd is not None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Never O_TRUNC: the file may be another server's, and says who that is.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ConfigError("cannot use the data folder %s: %s"
                              % (self.folder, exc.strerror or exc)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise DataDirInUse(self._refusal(holder)) from None
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                os.close(fd)
                raise
            LOG.warning("cannot lock the data folder %s (%s): nothing keeps another server "
                        "from using it at the same time", self.folder, exc.strerror)
        self._fd = fd
        self._write()

    def update(self, address: str) -> None:
        """Say where the server listens, once it does (a port chosen at start)."""
        self.address = address
        if self._fd is not None:
            self._write()

    def close(self) -> None:
        """Let go of the folder: empty the file, then unlock it (by closing it)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        # The file stays: removing it would let a later server lock a new file while one
        # that opened this one a moment ago locks the old one.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)

    def __enter__(self) -> DataDirLock:
        self.claim()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _write(self) -> None:
        assert self._fd is not None
        text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "address": self.address, "started": self._started}) + "\n"
        data = text.encode()
        # Written over the old text, then cut to length: a reader sees no empty file.
        os.pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))

    def _refusal(self, holder: dict[str, Any] | None) -> str:
        who = ""
        if holder is not None:
            pid = "pid %s" % holder.get("pid", "?")
            if holder.get("host") not in (None, socket.gethostname()):
                pid += " on %s" % holder["host"]
            who = " (%s, %s)" % (pid, holder.get("address") or "address unknown")
        return "the data folder %s is in use by another deepaas-run%s; %s" % (
            self.folder, who, self._hint)


def _holder(fd: int) -> dict[str, Any] | None:
    """What the lock file says of its holder; None when it says nothing readable."""
    deadline = time.monotonic() + _READ_FOR
    while True:
        try:
            found = json.loads(os.pread(fd, 4096, 0))
        except (OSError, ValueError):
            found = None
        if isinstance(found, dict) or time.monotonic() > deadline:
            return found if isinstance(found, dict) else None
        time.sleep(0.02)  # the holder is between taking the lock and writing to it

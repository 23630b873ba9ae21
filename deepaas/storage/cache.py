"""The on-disk cache of remote files, shared by every process that uses the same folder.

Layout of the cache folder::

    data/KEY          a file's bytes (KEY: a hash of its URL)
    meta/KEY.json     its URL, validator, name, content type, size and last use
    tmp/*.part        downloads in progress, renamed into data/ once complete
    handed-out/       files handed out (hard links) when no --tmp-dir is set
    locks/KEY.lock    flock'ed by whoever reads or writes KEY, in any process

An entry exists while its sidecar in ``meta/`` does: the sidecar is removed before the data is
replaced and written after, so that a half-updated entry is never a hit. The methods that
touch the disk are blocking: run them in a thread.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

from deepaas.files import owned_prefix

__all__ = ["Cache", "Entry"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One cached file, as its sidecar describes it."""

    key: str
    url: str
    validator: str
    filename: str
    content_type: str
    size: int
    last_used: float = 0.0


class Cache:
    """Remote files kept under ``root``, the least recently used removed past ``max_size``."""

    def __init__(self, root: Path, max_size: int, temp_ttl: float = 3600.0) -> None:
        self.root = root
        self._max_size = max_size
        self._temp_ttl = temp_ttl  # a .part file older than this belongs to no live download
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: collections.Counter[str] = collections.Counter()

    @staticmethod
    def key(url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    @contextlib.asynccontextmanager
    async def locked(self, key: str) -> AsyncIterator[None]:
        """Hold ``key`` alone: one task of this process, and one process, at a time.

        Fetches of one URL that wait here download it once: the first stores it, the others
        find it in the cache.
        """
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] += 1
        try:
            async with lock:
                fd = self._open_lock(key)  # quick, and no fd may leak to a cancellation
                try:
                    await _flock(fd)
                    yield
                finally:
                    os.close(fd)  # releases the flock
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key]
                del self._locks[key]

    def lookup(self, key: str, validator: str | None) -> Entry | None:
        """The entry when it holds the version the storage has now (and marks it used)."""
        entry = self._read_meta(key)
        if validator is None or entry is None or entry.validator != validator:
            return None
        try:
            size = self._data(key).stat().st_size
        except FileNotFoundError:
            return None
        if size != entry.size:  # damaged, e.g. written to through a link handed out
            return None
        entry = dataclasses.replace(entry, last_used=time.time())
        self._write_meta(entry)
        return entry

    def temp_file(self) -> Path:
        """A new empty file for a download, on the cache's filesystem (renames are atomic)."""
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=owned_prefix("part"), suffix=".part", dir=folder)
        os.close(fd)
        return Path(name)

    def store(self, temp: Path, entry: Entry) -> Entry:
        """Make a complete download the entry of its key (replacing an older version)."""
        entry = dataclasses.replace(entry, last_used=time.time())
        self._meta(entry.key).unlink(missing_ok=True)
        self._data(entry.key).parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, self._data(entry.key))
        self._write_meta(entry)
        return entry

    def hand_out(self, entry: Entry, into: str) -> str | None:
        """A file of the caller's own in ``into``: a hard link to the entry, else a copy.

        The caller may delete or move it, and eviction cannot take its data away. None when
        the entry's data is gone.
        """
        Path(into).mkdir(parents=True, exist_ok=True)
        source = self._data(entry.key)
        suffix = "".join(c for c in PurePosixPath(entry.filename).suffix if c.isalnum()
                         or c == ".")[:16]
        while True:
            dest = Path(into) / ("%s%s%s" % (owned_prefix("remote"), secrets.token_hex(8),
                                             suffix))
            try:
                os.link(source, dest)
            except FileExistsError:
                continue
            except FileNotFoundError:
                return None
            except OSError:  # another filesystem, or one without hard links
                try:
                    shutil.copyfile(source, dest)
                except FileNotFoundError:
                    return None
            return str(dest)

    def evict(self, keep: str) -> list[str]:
        """Remove the least recently used entries until the cache fits its size (``keep``,
        the entry just fetched, stays); answers the keys removed."""
        self._sweep_temp()
        folder = self.root / "data"
        found = []
        for data in folder.iterdir() if folder.is_dir() else ():
            entry = self._read_meta(data.name)
            with contextlib.suppress(FileNotFoundError):
                # data without a sidecar (a crash mid-update) goes first
                found.append((entry.last_used if entry else 0.0, data.name, data.stat().st_size))
        total = sum(size for _, _, size in found)
        removed = []
        for _, key, size in sorted(found):
            if total <= self._max_size:
                break
            if key != keep and self._remove(key):
                total -= size
                removed.append(key)
        return removed

    def _remove(self, key: str) -> bool:
        fd = self._open_lock(key)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # being fetched right now: not the least recently used
                return False
            self._meta(key).unlink(missing_ok=True)
            self._data(key).unlink(missing_ok=True)
            return True
        finally:
            os.close(fd)

    def _sweep_temp(self) -> None:
        folder = self.root / "tmp"
        limit = time.time() - self._temp_ttl
        for part in folder.glob("*.part") if folder.is_dir() else ():
            with contextlib.suppress(FileNotFoundError):
                if part.stat().st_mtime < limit:
                    part.unlink()

    def _data(self, key: str) -> Path:
        return self.root / "data" / key

    def _meta(self, key: str) -> Path:
        return self.root / "meta" / (key + ".json")

    def _open_lock(self, key: str) -> int:
        # Lock files stay: removing one another process has open would split the lock.
        folder = self.root / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(folder / (key + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)

    def _read_meta(self, key: str) -> Entry | None:
        try:
            return Entry(**json.loads(self._meta(key).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def _write_meta(self, entry: Entry) -> None:
        path = self._meta(entry.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name("%s.%s.tmp" % (path.name, secrets.token_hex(4)))
        temp.write_text(json.dumps(dataclasses.asdict(entry)), encoding="utf-8")
        os.replace(temp, path)


async def _flock(fd: int) -> None:
    # Polled rather than a blocking flock in a thread: a cancelled fetch must not leave a
    # thread behind that takes the lock later and holds it for ever.
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

"""What servers sharing one job store show each other: logs and cancellations.

The server that runs a training copies its log into the store as it grows (up to a bound), so
that any server can show it; one that did not run it follows the log there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid as uuids
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from deepaas.jobs.records import Job
from deepaas.jobs.store import JobStore

__all__ = ["LogShipper", "follow_stored", "new_replica_id", "MAX_SHARED_LOG"]

MAX_SHARED_LOG = 16 * 1024 * 1024  # log bytes of one training copied into a shared store
_CHUNK = 256 * 1024
_TRUNCATED = (b"\n[deepaas: the log is longer than the job store keeps; the whole log is on "
              b"the server that ran this training]\n")


def new_replica_id() -> str:
    return uuids.uuid4().hex[:12]


@dataclasses.dataclass
class LogShipper:
    """Copies one training's log file into the store, from where it got to last time."""

    path: Path
    offset: int = 0

    async def ship(self, store: JobStore, uuid: str, everything: bool = False) -> None:
        """Copy what was written since the last call (all of it when ``everything``)."""
        while self.offset < MAX_SHARED_LOG:
            room = min(_CHUNK, MAX_SHARED_LOG - self.offset)
            data = await asyncio.to_thread(self._read, room)
            if not data:
                return
            await store.append_log(uuid, self.offset, data)
            self.offset += len(data)
            if not everything:
                return
        if everything and self.path.stat().st_size > self.offset:
            await store.append_log(uuid, self.offset, _TRUNCATED)
            self.offset += len(_TRUNCATED)

    def _read(self, size: int) -> bytes:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                return handle.read(size)
        except FileNotFoundError:
            return b""


async def follow_stored(store: JobStore, uuid: str, get: Callable[[], Awaitable[Job]],
                        follow: bool, poll: float = 0.5) -> AsyncIterator[bytes]:
    """The log kept in the store from the start; with ``follow``, new bytes until the training
    (run by another server) has ended and its last bytes were read.

    Shaped as :func:`deepaas.jobs.logs.follow`: the record is read only when the log is idle.
    """
    offset = 0
    while True:
        data = await store.read_log(uuid, offset)
        if data:
            offset += len(data)
            yield data
            if follow:
                continue
        if not follow:
            return
        if (await get()).status.is_terminal():
            rest = await store.read_log(uuid, offset)  # what came just before it ended
            if rest:
                yield rest
            return
        await asyncio.sleep(poll)

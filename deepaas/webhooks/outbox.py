"""Webhooks on disk: those armed for jobs still running, and deliveries not yet made.

Layout under the folder (``DATA_DIR/webhooks``)::

    armed/UUID.json      {"uuid", "url", "armed"}: job UUID's record goes to url when it ends
    pending/ID.json      a :class:`Delivery`, rewritten after each failed attempt

Each file is written whole to a hidden temporary file and renamed over the old one, so a crash
leaves the old version or the new one, never half of either. Blocking calls: run them in a
thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["Delivery", "Outbox", "message_id"]

_log = logging.getLogger(__name__)


def message_id(uuid: str) -> str:
    """The ``webhook-id`` of the delivery for job ``uuid``.

    Derived from the job, not drawn at random: a delivery written twice (the server stopped
    between writing it and disarming its job) is one file and one id, which receivers
    deduplicate on.
    """
    return "msg_" + uuid


@dataclasses.dataclass
class Delivery:
    """One job's record on its way to a receiver; times are wall-clock (``time.time()``),
    since they must mean the same after a restart."""

    id: str  # the webhook-id, the same on every attempt; the file's name
    uuid: str  # the job's
    url: str
    body: str  # the JSON text sent and signed, exactly
    created: float  # when the job ended: retries stop a fixed time after it
    attempts: int = 0
    next_attempt: float = 0.0  # 0: at once

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Delivery:
        return cls(id=str(data["id"]), uuid=str(data["uuid"]), url=str(data["url"]),
                   body=str(data["body"]), created=float(data["created"]),
                   attempts=int(data.get("attempts", 0)),
                   next_attempt=float(data.get("next_attempt", 0.0)))


class Outbox:
    """The two folders of :mod:`deepaas.webhooks.outbox`, read and written whole-file."""

    def __init__(self, folder: Path) -> None:
        self.armed_dir = folder / "armed"
        self.pending_dir = folder / "pending"

    # --- armed: jobs whose end is awaited ----------------------------------------------------

    def arm(self, uuid: str, url: str) -> None:
        _write(self.armed_dir / (uuid + ".json"),
               {"uuid": uuid, "url": url, "armed": time.time()})

    def armed_url(self, uuid: str) -> str | None:
        """Where job ``uuid``'s record goes, or None when it is not armed."""
        data = _read(self.armed_dir / (uuid + ".json"))
        return None if data is None else str(data["url"])

    def armed(self) -> list[str]:
        """The uuids of every armed job."""
        return [path.stem for path in _files(self.armed_dir)]

    def disarm(self, uuid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.armed_dir / (uuid + ".json")).unlink()

    # --- pending deliveries ------------------------------------------------------------------

    def save(self, delivery: Delivery) -> None:
        _write(self.pending_dir / (delivery.id + ".json"), dataclasses.asdict(delivery))

    def has(self, delivery_id: str) -> bool:
        return (self.pending_dir / (delivery_id + ".json")).exists()

    def remove(self, delivery_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.pending_dir / (delivery_id + ".json")).unlink()

    def sweep(self) -> None:
        """Remove the temporary files of writes a crash interrupted."""
        for folder in (self.armed_dir, self.pending_dir):
            for path in folder.glob(".*.tmp") if folder.is_dir() else ():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def pending(self) -> list[Delivery]:
        """Every pending delivery; an unreadable file is logged and left where it is."""
        found = []
        for path in _files(self.pending_dir):
            data = _read(path)
            try:
                if data is not None:
                    found.append(Delivery.from_dict(data))
            except (KeyError, TypeError, ValueError):
                _log.error("webhooks: %s is not a delivery; left as it is", path)
        return found


def _files(folder: Path) -> Iterator[Path]:
    """The ``*.json`` files of folder; hidden ones are writes in progress (or left by a
    crash) and never read."""
    if folder.is_dir():
        yield from sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _log.error("webhooks: cannot read %s (%s); left as it is", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix="." + path.stem, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out)
            out.flush()
            os.fsync(out.fileno())  # a delivery promised is a delivery kept, power cut or not
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise

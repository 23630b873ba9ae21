"""Webhooks on disk: those armed for jobs still running, and deliveries not yet made.

Layout under the folder (``DATA_DIR/webhooks``)::

    armed/UUID.json      {"uuid", "url", "armed"}: job UUID's record goes to url when it ends
    pending/ID.json      a :class:`Delivery`, rewritten after each failed attempt

Each file is written whole to a hidden temporary file and renamed over the old one, so a crash
leaves the old version or the new one, never half of either. A file that cannot be used (not
JSON, or not the shape of its record: a hand edit, another program's) is renamed
``NAME.damaged`` beside it, with one warning naming it and saying why, and never read again.
Blocking calls: run them in a thread.
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
from typing import Any, TypeVar, get_type_hints

__all__ = ["Armed", "Delivery", "Outbox", "message_id"]

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

    @property
    def name(self) -> str:
        """Its file's name, less ``.json``."""
        return self.id


@dataclasses.dataclass
class Armed:
    """Job ``uuid``'s record goes to ``url`` when it ends; ``armed``: when it was asked."""

    uuid: str  # the file's name
    url: str
    armed: float

    @property
    def name(self) -> str:
        return self.uuid


_Record = TypeVar("_Record", Armed, Delivery)
_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", int: "a number",
               float: "a number", bool: "true or false", type(None): "null"}


class _Damaged(ValueError):
    """A file that is not the record it should hold; the message says why."""


def _kind(value: object) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _fits(value: object, wanted: type) -> bool:
    if isinstance(value, bool):  # JSON's true is no number, though Python's bool is an int
        return wanted is bool
    return isinstance(value, (int, float) if wanted is float else wanted)


def _parse(kind: type[_Record], text: bytes, name: str) -> _Record:
    """The record of type ``kind`` in a file's ``text``; the one place the files' shape is
    checked, field by field against the record's own declaration. Keys it does not know
    are ignored (a later release's). Raises :class:`_Damaged`."""
    try:
        data = json.loads(text.decode("utf-8"))
    except ValueError as exc:
        raise _Damaged("not JSON (%s)" % exc) from None
    if not isinstance(data, dict):
        raise _Damaged("%s, not a JSON object" % _kind(data))
    hints = get_type_hints(kind)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(kind):
        if field.name not in data:
            if field.default is dataclasses.MISSING:
                raise _Damaged("no %r" % field.name)
            continue
        value, wanted = data[field.name], hints[field.name]
        if not _fits(value, wanted):
            raise _Damaged("%r is %s, not %s" % (field.name, _kind(value),
                                                  _JSON_NAMES[wanted]))
        values[field.name] = float(value) if wanted is float else value
    found = kind(**values)
    if found.name != name:  # the file is found by its name: a record under another is lost
        raise _Damaged("it names %r, not %r" % (found.name, name))
    return found


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
        """Where job ``uuid``'s record goes, or None when it is not armed (or its file is
        damaged: set aside)."""
        found = _load(Armed, self.armed_dir / (uuid + ".json"))
        return None if found is None else found.url

    def armed(self) -> list[str]:
        """The uuids of every armed job; damaged files are set aside."""
        found = (_load(Armed, path) for path in _files(self.armed_dir))
        return [armed.uuid for armed in found if armed is not None]

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
        """Every pending delivery; damaged files are set aside."""
        found = (_load(Delivery, path) for path in _files(self.pending_dir))
        return [delivery for delivery in found if delivery is not None]


def _files(folder: Path) -> Iterator[Path]:
    """The ``*.json`` files of folder; hidden ones are writes in progress (or left by a
    crash) and never read."""
    if folder.is_dir():
        yield from sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))


def _load(kind: type[_Record], path: Path) -> _Record | None:
    """The record in ``path``; None when there is none, or it cannot be used: then one
    warning names the file and says why, and a damaged file is set aside."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:  # not ours to read (permissions): nothing to set aside either
        _log.warning("webhooks: cannot read %s, left as it is: %s", path, exc.strerror or exc)
        return None
    try:
        return _parse(kind, text, path.stem)
    except _Damaged as exc:
        _set_aside(path, str(exc))
        return None


def _set_aside(path: Path, why: str) -> None:
    aside = path.with_name(path.name + ".damaged")
    try:
        os.replace(path, aside)
    except FileNotFoundError:  # set aside meanwhile by another reader, which said so
        return
    except OSError as exc:
        _log.warning("webhooks: %s is damaged (%s) and cannot be set aside: %s", path, why,
                     exc.strerror or exc)
        return
    _log.warning("webhooks: %s is damaged (%s): set aside as %s", path, why, aside.name)


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

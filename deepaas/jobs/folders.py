"""Each training's own record, kept in its folder: the truth that the job store indexes.

``DATA_DIR/jobs/UUID/record.json`` holds the record (everything the API shows but the metrics
series), replaced whole at each change: written to a temporary file, synced, then renamed over
the old one, so that a reader finds the old version or the new one, never a mix.
``metrics.jsonl`` holds the metrics series, one point a line, appended. The job store (SQLite
or PostgreSQL) is an index of these files, rebuilt from them when it is lost or damaged.

Everything here blocks (files, fsync): callers run it in a thread.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import secrets
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from deepaas.jobs.layout import METRICS, RECORD, JobLayout
from deepaas.jobs.records import Job, JobStatus
from deepaas.model.outputs import dumps

__all__ = ["JobFolders", "RECORD", "METRICS", "record_text", "metrics_text"]

LOG = logging.getLogger(__name__)

_FORMAT = 1  # of record.json; a reader takes the fields it knows
_DATES = ("date", "start_date", "finish_date")
_FIELDS = tuple(f.name for f in dataclasses.fields(Job) if f.name != "metrics")


def record_text(job: Job) -> str:
    """The text of ``job``'s ``record.json``: taken at once, so that later changes to the
    (live) record do not leak into a write still on its way."""
    fields: dict[str, Any] = {name: getattr(job, name) for name in _FIELDS}
    for name in _DATES:
        fields[name] = None if fields[name] is None else fields[name].isoformat()
    fields["status"] = job.status.value
    return dumps({"format": _FORMAT, **fields})


def metrics_text(points: Iterable[dict[str, Any]]) -> str:
    """Lines to append to ``metrics.jsonl``."""
    return "".join(dumps(point) + "\n" for point in points)


def _kinds() -> dict[str, tuple[type, ...]]:
    """What JSON value each plain field of :class:`Job` takes, read from its declaration
    (``dict[str, Any] | None``: a dict or None); fields of any value are left out."""
    kinds = {}
    for name, hint in typing.get_type_hints(Job).items():
        if name in _FIELDS and name not in _DATES and name != "status" and hint is not Any:
            union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
            kinds[name] = tuple(typing.get_origin(one) or one
                                for one in (typing.get_args(hint) if union else (hint,)))
    return kinds


_KINDS = _kinds()


def _date(text: Any) -> datetime.datetime:
    if not isinstance(text, str):
        raise TypeError("a date is %s, not a string" % type(text).__name__)
    when = datetime.datetime.fromisoformat(text)
    # The records' dates are local and naive; one with a zone (a hand edit) is made so, or
    # sorting the records would fail on it, and with it the start.
    return when if when.tzinfo is None else when.astimezone().replace(tzinfo=None)


def _parse(text: str) -> Job:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError("%s, not a JSON object" % type(data).__name__)
    fields = {name: data[name] for name in _FIELDS if name in data}
    for name, kinds in _KINDS.items():
        if name in fields and not isinstance(fields[name], kinds):
            raise TypeError("%r is %s" % (name, type(fields[name]).__name__))
    for name in _DATES:
        if fields.get(name) is not None:
            fields[name] = _date(fields[name])
    fields["status"] = JobStatus(fields["status"])
    return Job(**fields)


def _replace(target: Path, text: str) -> None:
    """Write ``target`` whole: a temporary file, synced, renamed over it."""
    temp = target.with_name(".%s.%s.tmp" % (target.name, secrets.token_hex(4)))
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with open(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


class JobFolders:
    """The records under ``root`` (``DATA_DIR/jobs``), one folder per training.

    A folder that does not exist is never made here: a record is kept only for a training
    whose folder the job manager made (not, say, for another server's training that this one
    closed the books on).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.layout = JobLayout(root)

    def write(self, uuid: str, text: str) -> bool | None:
        """Replace the record with ``text`` (from :func:`record_text`). Answers None when the
        training has no folder here, False when its record had ended already (the first
        ending wins, as in the store), True once written."""
        if not self.layout.folder(uuid).is_dir():
            return None
        old = self._read(self.layout.record(uuid))
        if old is not None and old.status.is_terminal():
            return False
        _replace(self.layout.record(uuid), text)
        return True

    def append_metrics(self, uuid: str, text: str) -> None:
        """Append lines (from :func:`metrics_text`) to the training's metrics series."""
        if not text or not self.layout.folder(uuid).is_dir():
            return
        with open(self.layout.metrics(uuid), "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    def replace_metrics(self, uuid: str, text: str) -> None:
        """Write the whole series again (after appends to it failed)."""
        if self.layout.folder(uuid).is_dir():
            _replace(self.layout.metrics(uuid), text)

    def fill(self, job: Job) -> None:
        """Write a record and its series into a folder that has neither (an earlier release
        kept them in the job store only)."""
        if self.write(job.uuid, record_text(job)) and not self.layout.metrics(job.uuid).exists():
            _replace(self.layout.metrics(job.uuid), metrics_text(job.metrics))

    def read(self, uuid: str, with_metrics: bool = True) -> Job | None:
        """The training's record (with its metrics series), or None when it has none."""
        job = self._read(self.layout.record(uuid))
        if job is not None and with_metrics:
            job.metrics = self.metrics(uuid)
        return job

    def metrics(self, uuid: str) -> list[dict[str, Any]]:
        """The metrics series; a line cut short by a crash (or not JSON) is left out."""
        try:
            # errors="replace": a line of bytes that are not text is left out, as a cut one
            with open(self.layout.metrics(uuid), encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except FileNotFoundError:
            return []
        points = []
        for line in lines:
            try:
                point = json.loads(line)
            except ValueError:
                continue
            if isinstance(point, dict):
                points.append(point)
        return points

    def records(self) -> list[Job]:
        """Every readable record, oldest first (the order of submission), without metrics."""
        found = []
        for path in self.layout.records():
            job = self._read(path)
            if job is not None and job.uuid != path.parent.name:
                LOG.warning("%s cannot be read, left out: it is the record of %s", path,
                            job.uuid)
            elif job is not None:
                found.append(job)
        return sorted(found, key=lambda job: (job.date, job.uuid))

    def lacking(self, uuids: Iterable[str]) -> list[str]:
        """Which of ``uuids`` have a folder here but no record in it (made by a release that
        kept records only in the job store)."""
        return [uuid for uuid in uuids
                if self.layout.folder(uuid).is_dir() and not self.layout.record(uuid).exists()]

    def _read(self, path: Path) -> Job | None:
        try:
            return _parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            # Not a torn write (a write replaces the file whole or not at all): a hand-edited
            # file, or one this server may not read.
            LOG.warning("%s cannot be read, left out: %s", path, exc)
            return None

"""What both job stores share: a :class:`Job` as a table row and back, and the SQL built on it.

The SQLite and PostgreSQL stores keep the same columns; they differ in placeholders (``?`` or
``$1``), in table names and in how dates are stored, which the helpers take as arguments.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from deepaas.jobs.records import Job, JobStatus
from deepaas.model.outputs import dumps

__all__ = ["COLUMNS", "TERMINAL", "UNFINISHED", "select_sql", "upsert_sql", "orphans_sql", "to_row",
           "from_row", "join_log", "opened"]

_T = TypeVar("_T")

#: The record's columns, in the order of :func:`to_row` (``uuid`` first: the upsert's key).
COLUMNS = ("uuid", "model", "status", "date", "start_date", "finish_date", "args", "output",
           "message", "pid", "progress", "owner", "files", "resources", "placement")


def _sql_list(statuses: Iterable[JobStatus]) -> str:
    # Literals from our own enum, never user input: safe to inline, and both dialects read them.
    return "(%s)" % ", ".join("'%s'" % s.value for s in statuses)


#: ``('done', 'error', 'cancelled')``, for ``status IN ...`` clauses.
TERMINAL = _sql_list(s for s in JobStatus if s.is_terminal())
#: ``('queued', 'running')``.
UNFINISHED = _sql_list(s for s in JobStatus if not s.is_terminal())


def select_sql(table: str) -> str:
    """``SELECT <columns> FROM table``; the caller adds the rest."""
    return "SELECT %s FROM %s" % (", ".join(COLUMNS), table)


def upsert_sql(table: str, placeholders: Sequence[str]) -> str:
    """Insert a record or update it, unless its stored status is terminal: the first ending wins.

    Neither ``id`` (submission order) nor ``cancel_requested`` are among the columns, so an
    update keeps both.
    """
    return ("INSERT INTO {t} ({cols}) VALUES ({values}) ON CONFLICT (uuid) DO UPDATE SET {sets} "
            "WHERE {t}.status NOT IN {terminal}").format(
        t=table, cols=", ".join(COLUMNS), values=", ".join(placeholders), terminal=TERMINAL,
        sets=", ".join("%s = excluded.%s" % (c, c) for c in COLUMNS[1:]))


def orphans_sql(jobs: str, replicas: str, cutoff: str) -> str:
    """Unfinished records, oldest first, whose owner is unknown, none, or last beat before the
    SQL expression ``cutoff`` (computed by the database: its clock is the one all agree on)."""
    return ("%(select)s WHERE status IN %(unfinished)s AND (owner IS NULL OR NOT EXISTS ("
            "SELECT 1 FROM %(r)s WHERE %(r)s.id = %(j)s.owner AND %(r)s.seen >= %(cutoff)s)) "
            "ORDER BY id") % dict(select=select_sql(jobs), unfinished=UNFINISHED, r=replicas,
                                  j=jobs, cutoff=cutoff)


def _iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | datetime.datetime | None) -> datetime.datetime | None:
    # SQLite hands back the ISO text we stored, PostgreSQL a datetime.
    return datetime.datetime.fromisoformat(value) if isinstance(value, str) else value


def _text(value: Any) -> str | None:
    return None if value is None else dumps(value)


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def to_row(job: Job, *, text_dates: bool = True) -> tuple[Any, ...]:
    """The values of :data:`COLUMNS`: JSON text for the structured fields, dates as ISO text
    (or as they are, with ``text_dates=False``, for a driver that takes datetimes)."""
    date = _iso if text_dates else (lambda d: d)
    return (job.uuid, job.model, job.status.value, date(job.date), date(job.start_date),
            date(job.finish_date), dumps(job.args), dumps(job.output), job.message, job.pid,
            None if job.progress is None else dumps(job.progress), job.owner,
            None if job.files is None else dumps(job.files), _text(job.resources),
            _text(job.placement))


def from_row(row: Sequence[Any]) -> Job:
    """The record of a row of :data:`COLUMNS`, without its metrics series."""
    (uuid, model, status, date, start, finish, args, output, message, pid, progress, owner,
     files, resources, placement) = row
    made = _date(date)
    assert made is not None  # NOT NULL in both schemas
    return Job(uuid=uuid, model=model, status=JobStatus(status), date=made,
               start_date=_date(start), finish_date=_date(finish), args=json.loads(args),
               output=_json(output), message=message, pid=pid, progress=_json(progress),
               owner=owner, files=_json(files), resources=_json(resources),
               placement=_json(placement))


def join_log(chunks: Iterable[tuple[int, bytes]], offset: int) -> bytes:
    """The log from byte ``offset`` on, given its stored ``(start, data)`` chunks by start.

    A chunk may begin before ``offset`` (only its tail counts) or repeat bytes already
    joined (a writer that sent a chunk again after a failed write): each byte is taken once.
    """
    parts: list[bytes] = []
    position = offset
    for start, data in chunks:
        skip = max(position - start, 0)
        if skip < len(data):
            parts.append(bytes(data[skip:]))
            position = start + len(data)
    return b"".join(parts)


def opened(connection: _T | None) -> _T:
    """A store's connection (or pool), once :meth:`~deepaas.jobs.store.JobStore.open` made it."""
    if connection is None:
        raise RuntimeError("the job store is not open")
    return connection

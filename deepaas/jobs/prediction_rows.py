"""What both stores share about prediction records: the table, a record as a row and back,
and the SQL built on them (as :mod:`deepaas.jobs.rows` is for trainings).

The SQLite and PostgreSQL tables keep the same columns; they differ in placeholders (``?`` or
``$1``), table names, and date and binary types, which the helpers take as arguments.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Sequence
from typing import Any

from deepaas.jobs.prediction_records import PredictionRecord
from deepaas.jobs.records import JobStatus
from deepaas.jobs.rows import TERMINAL
from deepaas.model.outputs import dumps

__all__ = ["COLUMNS", "Queries", "to_row", "from_row", "where_find", "SQLITE_SCHEMA",
           "POSTGRES_SCHEMA"]

#: The record's columns, in the order of :func:`to_row` (``uuid`` first: the upsert's key).
COLUMNS = ("uuid", "model", "status", "date", "start_date", "finish_date", "args", "result",
           "body", "content_type", "message", "owner")

# A new schema step of each store (never edit an older step). A table of its own: the
# trainings' logic (orphans, counts, the job folders' reconcile) never sees predictions. The
# index on finish_date serves the expiry sweep; (model, id) the lists.
SQLITE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS predictions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid TEXT NOT NULL UNIQUE,
        model TEXT NOT NULL,
        status TEXT NOT NULL,
        date TEXT NOT NULL,
        start_date TEXT,
        finish_date TEXT,
        args TEXT NOT NULL,
        result TEXT,
        body BLOB,
        content_type TEXT,
        message TEXT,
        owner TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS predictions_by_model ON predictions (model, id)",
    "CREATE INDEX IF NOT EXISTS predictions_by_finish ON predictions (finish_date)",
)
POSTGRES_SCHEMA = """
    CREATE TABLE IF NOT EXISTS deepaas_predictions (
        id bigserial PRIMARY KEY,
        uuid text NOT NULL UNIQUE,
        model text NOT NULL,
        status text NOT NULL,
        date timestamp NOT NULL,
        start_date timestamp,
        finish_date timestamp,
        args text NOT NULL,
        result text,
        body bytea,
        content_type text,
        message text,
        owner text
    );
    CREATE INDEX IF NOT EXISTS deepaas_predictions_by_model ON deepaas_predictions (model, id);
    CREATE INDEX IF NOT EXISTS deepaas_predictions_by_finish
        ON deepaas_predictions (finish_date);
"""


class Queries:
    """The statements of one store: ``table`` and ``replicas`` are its table names,
    ``mark(i)`` its i-th placeholder (from 1), ``cutoff`` the SQL of "now minus the
    placeholder's seconds" by the database's clock (heartbeats are by that clock)."""

    def __init__(self, table: str, replicas: str, mark: Callable[[int], str],
                 cutoff: Callable[[str], str]) -> None:
        with_body = ", ".join(COLUMNS)
        without = ", ".join("NULL" if c == "body" else c for c in COLUMNS)
        self.select = "SELECT %s FROM %s" % (without, table)
        self.select_body = "SELECT %s FROM %s" % (with_body, table)
        self.upsert = (
            "INSERT INTO {t} ({cols}) VALUES ({values}) ON CONFLICT (uuid) DO UPDATE SET {sets} "
            "WHERE {t}.status NOT IN {terminal}").format(
            t=table, cols=with_body, terminal=TERMINAL,
            values=", ".join(mark(i + 1) for i in range(len(COLUMNS))),
            sets=", ".join("%s = excluded.%s" % (c, c) for c in COLUMNS[1:]))
        running = " WHERE status = '%s'" % JobStatus.RUNNING.value
        self.running = self.select + running + " ORDER BY id"
        self.orphans = (self.select + running + " AND (owner IS NULL OR NOT EXISTS (SELECT 1 "
                        "FROM {r} WHERE {r}.id = {t}.owner AND {r}.seen >= {cutoff})) "
                        "ORDER BY id").format(r=replicas, t=table, cutoff=cutoff(mark(1)))
        self.expire = ("DELETE FROM %s WHERE status IN %s AND finish_date < %s"
                       % (table, TERMINAL, mark(1)))


def _iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | datetime.datetime | None) -> datetime.datetime | None:
    # SQLite hands back the ISO text stored, PostgreSQL a datetime.
    return datetime.datetime.fromisoformat(value) if isinstance(value, str) else value


def to_row(record: PredictionRecord, *, text_dates: bool = True) -> tuple[Any, ...]:
    """The values of :data:`COLUMNS`; dates as ISO text, or as they are with
    ``text_dates=False`` (a driver that takes datetimes)."""
    date: Callable[[datetime.datetime | None], Any] = _iso if text_dates else (lambda d: d)
    return (record.uuid, record.model, record.status.value, date(record.date),
            date(record.start_date), date(record.finish_date), dumps(record.args),
            record.result, record.body, record.content_type, record.message, record.owner)


def from_row(row: Sequence[Any]) -> PredictionRecord:
    """The record of a row of :data:`COLUMNS` (``body`` NULL when it was not selected)."""
    (uuid, model, status, date, start, finish, args, result, body, content_type, message,
     owner) = row
    made = _date(date)
    assert made is not None  # NOT NULL in both schemas
    return PredictionRecord(uuid=uuid, model=model, status=JobStatus(status), date=made,
                            start_date=_date(start), finish_date=_date(finish),
                            args=json.loads(args), result=result,
                            body=None if body is None else bytes(body),
                            content_type=content_type, message=message, owner=owner)


def where_find(statuses: Sequence[JobStatus]) -> str:
    """The clause (after ``WHERE model = <first>``) for :meth:`find`'s statuses, inlined:
    they come from our own enum, never from user input."""
    if not statuses:
        return ""
    return " AND status IN (%s)" % ", ".join("'%s'" % s.value for s in statuses)


"""Job records in SQLite, through aiosqlite so that no query blocks the event loop."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import aiosqlite

from deepaas.jobs.records import Job, JobStatus
from deepaas.model.outputs import dumps

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    date TEXT NOT NULL,
    start_date TEXT,
    finish_date TEXT,
    args TEXT NOT NULL,
    output TEXT,
    message TEXT,
    pid INTEGER,
    progress TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_model ON jobs (model, id);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
CREATE TABLE IF NOT EXISTS metrics (
    uuid TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_by_job ON metrics (uuid);
"""

_COLUMNS = ("uuid", "model", "status", "date", "start_date", "finish_date", "args", "output",
            "message", "pid", "progress")
_UPSERT = "INSERT INTO jobs (%s) VALUES (%s) ON CONFLICT(uuid) DO UPDATE SET %s" % (
    ", ".join(_COLUMNS), ", ".join("?" * len(_COLUMNS)),
    ", ".join("%s = excluded.%s" % (c, c) for c in _COLUMNS[1:]))
_SELECT = "SELECT %s FROM jobs" % ", ".join(_COLUMNS)


def _date(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_date(value: str | None) -> datetime.datetime | None:
    return None if value is None else datetime.datetime.fromisoformat(value)


def _row(job: Job) -> tuple[Any, ...]:
    return (job.uuid, job.model, job.status.value, _date(job.date), _date(job.start_date),
            _date(job.finish_date), dumps(job.args), dumps(job.output), job.message, job.pid,
            None if job.progress is None else dumps(job.progress))


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _job(row: Any) -> Job:
    (uuid, model, status, date, start, finish, args, output, message, pid, progress) = row
    return Job(uuid=uuid, model=model, status=JobStatus(status),
               date=datetime.datetime.fromisoformat(date), start_date=_parse_date(start),
               finish_date=_parse_date(finish), args=json.loads(args), output=_json(output),
               message=message, pid=pid, progress=_json(progress))


class SQLiteStore:
    """A SQLite file (WAL mode): every write is its own committed transaction."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the job store is not open")
        return self._db

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.executescript(_SCHEMA)
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def put(self, job: Job) -> None:
        await self.db.execute(_UPSERT, _row(job))
        await self.db.commit()

    async def add_metrics(self, uuid: str, points: list[dict[str, Any]]) -> None:
        await self.db.executemany("INSERT INTO metrics (uuid, data) VALUES (?, ?)",
                                  [(uuid, dumps(p)) for p in points])
        await self.db.commit()

    async def get(self, uuid: str) -> Job | None:
        async with self.db.execute(_SELECT + " WHERE uuid = ?", (uuid,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        job = _job(row)
        async with self.db.execute("SELECT data FROM metrics WHERE uuid = ? ORDER BY rowid",
                                   (uuid,)) as cursor:
            job.metrics = [json.loads(data) async for (data,) in cursor]
        return job

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[Job]:
        query, params = _SELECT + " WHERE model = ?", list[Any]([model])
        if statuses:
            query += " AND status IN (%s)" % ", ".join("?" * len(statuses))
            params += [s.value for s in statuses]
        query += " ORDER BY id LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        async with self.db.execute(query, params) as cursor:
            return [_job(row) for row in await cursor.fetchall()]

    async def counts(self) -> dict[tuple[str, str], int]:
        """``{(model, status): number of jobs}``."""
        query = "SELECT model, status, COUNT(*) FROM jobs GROUP BY model, status"
        async with self.db.execute(query) as cursor:
            return {(model, status): count async for model, status, count in cursor}

    async def unfinished(self) -> list[Job]:
        query = _SELECT + " WHERE status IN (?, ?) ORDER BY id"
        params = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
        async with self.db.execute(query, params) as cursor:
            return [_job(row) for row in await cursor.fetchall()]

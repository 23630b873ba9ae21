"""Job records in SQLite, through aiosqlite so that no query blocks the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from deepaas.exceptions import ConfigError
from deepaas.jobs import prediction_rows, rows
from deepaas.jobs.records import Job, JobStatus
from deepaas.model.outputs import dumps

__all__ = ["SQLiteStore"]

LOG = logging.getLogger(__name__)

# Version N of the schema is what the first N steps make; PRAGMA user_version says which one a
# file has. Version 1 is the schema of the releases before user_version was kept: its
# statements say IF NOT EXISTS, so a file of those releases (user_version 0) keeps its records.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS jobs (
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
        )""",
        "CREATE INDEX IF NOT EXISTS jobs_by_model ON jobs (model, id)",
        "CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status)",
        "CREATE TABLE IF NOT EXISTS metrics (uuid TEXT NOT NULL, data TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS metrics_by_job ON metrics (uuid)",
    ),
    (
        "ALTER TABLE jobs ADD COLUMN owner TEXT",
        "ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0",
        "CREATE TABLE replicas (id TEXT PRIMARY KEY, host TEXT NOT NULL, seen REAL NOT NULL)",
        "CREATE TABLE job_logs (uuid TEXT NOT NULL, start INTEGER NOT NULL, data BLOB NOT NULL)",
        "CREATE INDEX job_logs_by_job ON job_logs (uuid, start)",
    ),
    ("ALTER TABLE jobs ADD COLUMN files TEXT",),  # what a training left in its output dir
    prediction_rows.SQLITE_SCHEMA,  # asynchronous predictions: jobs/sqlite_predictions.py
    # What a training asked for, and where it was placed (JSON text).
    ("ALTER TABLE jobs ADD COLUMN resources TEXT", "ALTER TABLE jobs ADD COLUMN placement TEXT"),
)

# Seconds since the epoch by SQLite's clock (julianday('now') has millisecond precision).
_NOW = "((julianday('now') - 2440587.5) * 86400.0)"

_SELECT = rows.select_sql("jobs")
_UPSERT = rows.upsert_sql("jobs", "?" * len(rows.COLUMNS))
_ORPHANS = rows.orphans_sql("jobs", "replicas", _NOW + " - ?")
_BEAT = ("INSERT INTO replicas (id, host, seen) VALUES (?, ?, %s) "
         "ON CONFLICT (id) DO UPDATE SET host = excluded.host, seen = excluded.seen" % _NOW)
_CANCEL = "UPDATE jobs SET cancel_requested = 1 WHERE uuid = ? AND status NOT IN " + rows.TERMINAL
_LOG = ("SELECT start, data FROM job_logs WHERE uuid = ? AND start + length(data) > ? "
        "ORDER BY start, rowid")

_BUSY = 30.0  # seconds

# What SQLite calls a damaged file (primary result codes): SQLITE_CORRUPT, SQLITE_NOTADB.
_DAMAGE = (11, 26)


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11 and later
    if code is None:  # OperationalError is what is not the file's fault (locked, full...)
        return not isinstance(exc, sqlite3.OperationalError)
    return code & 0xFF in _DAMAGE


class SQLiteStore:
    """A SQLite file (WAL mode) for one server: every call is its own committed transaction."""

    shared = False

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        # One connection serves every task: a transaction must not take in another's statements.
        self._lock = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        return rows.opened(self._db)

    async def open(self) -> None:
        """Open (or create) the file and bring its schema to the latest version.

        A file that SQLite finds damaged (its quick check fails, or it is no database) is
        moved aside as ``jobs.sqlite3.damaged-<UTC time>``, with its -wal and -shm, and a new
        one is made: the job folders hold every record to rebuild it from. A file that cannot
        be opened at all is a :class:`ConfigError`.
        """
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            damage = await self._connect()
            if damage is not None:
                self._set_aside(damage)
                damage = await self._connect()
            if damage is not None:
                raise ConfigError("cannot make a new job store %s: %s" % (self._path, damage))
        except OSError as exc:
            raise ConfigError("cannot open the job store %s: %s" % (self._path, exc)) from None
        try:
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def _connect(self) -> str | None:
        """Connect; answers what is wrong with the file when it is damaged (then closed)."""
        try:
            # sqlite3 first: where the file cannot be opened at all, aiosqlite's failed connect
            # leaves its thread to report into an event loop that may be closed by then.
            await asyncio.to_thread(lambda: sqlite3.connect(self._path).close())
            # Autocommit mode: a single statement is its own transaction, and what needs
            # several says BEGIN IMMEDIATE itself (sqlite3's implicit BEGIN takes the write
            # lock too late).
            # A writer waits up to _BUSY seconds for another's lock (several servers on one
            # file, a busy disk) instead of failing with "database is locked" after 5.
            self._db = await aiosqlite.connect(self._path, isolation_level=None,
                                               timeout=_BUSY)
            await self._into_wal()
            await self._db.execute("PRAGMA synchronous=NORMAL")
            found = [row[0] for row in await self._fetch("PRAGMA quick_check(5)")]
        except sqlite3.DatabaseError as exc:
            await self.close()
            if _is_damage(exc):
                return str(exc)
            raise ConfigError("cannot open the job store %s: %s" % (self._path, exc)) from None
        if found == ["ok"]:
            return None
        await self.close()
        return "; ".join(found)

    async def _into_wal(self) -> None:
        """Switch the file to write-ahead logging. Two connections switching one new file at
        once: SQLite answers one of them "database is locked" at once, without waiting for
        the lock as it does for other statements, so that one tries again (for up to _BUSY
        seconds, as a writer waits)."""
        deadline = asyncio.get_running_loop().time() + _BUSY
        while True:
            try:
                await self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or asyncio.get_running_loop().time() > deadline:
                    raise
            await asyncio.sleep(0.05)

    def _set_aside(self, damage: str) -> None:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = "%s.damaged-%s" % (self._path, stamp)
        taken = 1
        while os.path.lexists(aside):  # damaged twice in a second: keep both
            taken += 1
            aside = "%s.damaged-%s-%d" % (self._path, stamp, taken)
        for suffix in ("", "-wal", "-shm"):  # the WAL belongs to the file it was written for
            if os.path.lexists(str(self._path) + suffix):
                os.replace(str(self._path) + suffix, aside + suffix)
        LOG.error("the job index %s is damaged (%s): moved aside as %s", self._path, damage,
                  aside)

    async def _migrate(self) -> None:
        # BEGIN IMMEDIATE holds the write lock from the start: of two servers opening a fresh
        # file, the second waits and then reads the version the first one wrote.
        async with self._transaction() as db:
            version = (await self._fetch("PRAGMA user_version"))[0][0]
            if version > len(_MIGRATIONS):
                raise ConfigError("%s has job store schema version %d, newer than this deepaas "
                                  "knows (%d): upgrade deepaas" % (self._path, version,
                                                                   len(_MIGRATIONS)))
            for step in _MIGRATIONS[version:]:
                for statement in step:
                    await db.execute(statement)
            await db.execute("PRAGMA user_version = %d" % len(_MIGRATIONS))

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def _write(self, query: str, params: Sequence[Any]) -> int:
        """Run one statement; answers how many rows it changed."""
        async with self._lock, self.db.execute(query, params) as cursor:
            return cursor.rowcount

    async def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self.db.execute(query, params) as cursor:
            return list(await cursor.fetchall())

    async def write(self, query: str, params: Sequence[Any]) -> int:
        """One statement of another table of this file (the predictions'), under the lock that
        keeps it out of another task's transaction; answers how many rows it changed."""
        return await self._write(query, params)

    async def fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows of one query of another table of this file."""
        return await self._fetch(query, params)

    # --- records -----------------------------------------------------------------------------

    async def put(self, job: Job) -> bool:
        """Insert or update the record; False when its stored status is terminal (kept)."""
        return await self._write(_UPSERT, rows.to_row(job)) > 0

    async def add_metrics(self, uuid: str, points: list[dict[str, Any]]) -> None:
        """Append points to the job's metrics series."""
        async with self._transaction() as db:
            await db.executemany("INSERT INTO metrics (uuid, data) VALUES (?, ?)",
                                 [(uuid, dumps(p)) for p in points])

    async def get(self, uuid: str) -> Job | None:
        """The record with its full metrics series."""
        found = await self._fetch(_SELECT + " WHERE uuid = ?", (uuid,))
        if not found:
            return None
        job = rows.from_row(found[0])
        series = await self._fetch("SELECT data FROM metrics WHERE uuid = ? ORDER BY rowid",
                                   (uuid,))
        job.metrics = [json.loads(data) for (data,) in series]
        return job

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[Job]:
        """Records of a model, oldest first, without their metrics series."""
        query, params = _SELECT + " WHERE model = ?", list[Any]([model])
        if statuses:
            query += " AND status IN (%s)" % ", ".join("?" * len(statuses))
            params += [s.value for s in statuses]
        query += " ORDER BY id LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        return [rows.from_row(row) for row in await self._fetch(query, params)]

    async def counts(self) -> dict[tuple[str, str], int]:
        """``{(model, status): number of jobs}``."""
        query = "SELECT model, status, COUNT(*) FROM jobs GROUP BY model, status"
        return {(model, status): count for model, status, count in await self._fetch(query)}

    async def unfinished(self) -> list[Job]:
        """Records still queued or running, oldest first."""
        query = _SELECT + " WHERE status IN %s ORDER BY id" % rows.UNFINISHED
        return [rows.from_row(row) for row in await self._fetch(query)]

    async def statuses(self) -> dict[str, JobStatus]:
        """``{uuid: status}`` of every record."""
        found = await self._fetch("SELECT uuid, status FROM jobs")
        return {uuid: JobStatus(status) for uuid, status in found}

    # --- several servers over one file (processes of one host) ---------------------------------

    async def heartbeat(self, replica: str, host: str) -> None:
        """Record that ``replica`` is alive now."""
        await self._write(_BEAT, (replica, host))

    async def leave(self, replica: str) -> None:
        """Forget ``replica``."""
        await self._write("DELETE FROM replicas WHERE id = ?", (replica,))

    async def orphans(self, stale_after: float) -> list[Job]:
        """Unfinished records whose owner is none, unknown, or silent for ``stale_after`` s."""
        return [rows.from_row(row) for row in await self._fetch(_ORPHANS, (stale_after,))]

    async def request_cancel(self, uuid: str) -> None:
        """Ask the owner to cancel the job; a finished job has nothing left to cancel."""
        await self._write(_CANCEL, (uuid,))

    async def cancel_requests(self, uuids: list[str]) -> set[str]:
        """Which of ``uuids`` someone asked to cancel."""
        if not uuids:
            return set()
        query = "SELECT uuid FROM jobs WHERE cancel_requested = 1 AND uuid IN (%s)" % (
            ", ".join("?" * len(uuids)))
        return {uuid for (uuid,) in await self._fetch(query, uuids)}

    async def append_log(self, uuid: str, start: int, data: bytes) -> None:
        """Store ``data``, the job's log from byte ``start``."""
        await self._write("INSERT INTO job_logs (uuid, start, data) VALUES (?, ?, ?)",
                          (uuid, start, data))

    async def read_log(self, uuid: str, offset: int = 0) -> bytes:
        """The stored log from byte ``offset`` on."""
        return rows.join_log(await self._fetch(_LOG, (uuid, offset)), offset)

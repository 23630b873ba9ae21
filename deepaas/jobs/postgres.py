"""Job records in PostgreSQL, shared by several servers (``--job-store postgresql://...``).

asyncpg is imported when a store opens, not with this module: the default install has no
asyncpg, and nothing on the default path may need it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from typing import TYPE_CHECKING, Any

from deepaas.exceptions import ConfigError
from deepaas.jobs import prediction_rows, rows
from deepaas.jobs.records import Job, JobStatus
from deepaas.model.outputs import dumps

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresStore", "mask_url"]

LOG = logging.getLogger(__name__)

# Tables are prefixed deepaas_ so that the database can hold other things too. Dates are
# `timestamp` (without time zone): a Job's dates are naive datetimes, which asyncpg takes and
# gives back as they are, and a native type lets people sort and filter them in SQL. Heartbeats
# are `timestamptz` set by the server's now(): replicas whose clocks differ still agree.
# JSON fields are text, exactly what the SQLite store keeps, so both share one conversion.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE deepaas_jobs (
        id bigserial PRIMARY KEY,
        uuid text NOT NULL UNIQUE,
        model text NOT NULL,
        status text NOT NULL,
        date timestamp NOT NULL,
        start_date timestamp,
        finish_date timestamp,
        args text NOT NULL,
        output text,
        message text,
        pid integer,
        progress text,
        owner text,
        cancel_requested boolean NOT NULL DEFAULT false
    );
    CREATE INDEX deepaas_jobs_by_model ON deepaas_jobs (model, id);
    CREATE INDEX deepaas_jobs_by_status ON deepaas_jobs (status);
    CREATE TABLE deepaas_job_metrics (id bigserial PRIMARY KEY, uuid text NOT NULL,
                                      data text NOT NULL);
    CREATE INDEX deepaas_job_metrics_by_job ON deepaas_job_metrics (uuid, id);
    CREATE TABLE deepaas_replicas (id text PRIMARY KEY, host text NOT NULL,
                                   seen timestamptz NOT NULL);
    CREATE TABLE deepaas_job_logs (id bigserial PRIMARY KEY, uuid text NOT NULL,
                                   start bigint NOT NULL, data bytea NOT NULL);
    CREATE INDEX deepaas_job_logs_by_job ON deepaas_job_logs (uuid, start);
    """,
    # What a training left in its output dir (names, sizes, stored URLs), as JSON text.
    "ALTER TABLE deepaas_jobs ADD COLUMN files text",
    # Asynchronous predictions (deepaas/jobs/postgres_predictions.py).
    prediction_rows.POSTGRES_SCHEMA,
    # What a training asked for, and where it was placed (JSON text).
    "ALTER TABLE deepaas_jobs ADD COLUMN resources text; "
    "ALTER TABLE deepaas_jobs ADD COLUMN placement text",
)

# Key of the advisory lock that migrations hold: "deepaas" in ASCII, unlikely to be another
# application's choice in a shared database.
_MIGRATION_LOCK = 0x64656570616173
_POOL_SIZE = 4  # each call holds one connection briefly; a few cover a server's concurrency
_CONNECT_TIMEOUT = 10.0  # seconds

_SELECT = rows.select_sql("deepaas_jobs")
_UPSERT = rows.upsert_sql("deepaas_jobs", ["$%d" % (i + 1) for i in range(len(rows.COLUMNS))])
_FIND = (_SELECT + " WHERE model = $1 AND (cardinality($2::text[]) = 0 OR status = ANY($2)) "
         "ORDER BY id LIMIT $3 OFFSET $4")
_ORPHANS = rows.orphans_sql("deepaas_jobs", "deepaas_replicas", "now() - make_interval(secs => $1)")
_BEAT = ("INSERT INTO deepaas_replicas (id, host, seen) VALUES ($1, $2, now()) "
         "ON CONFLICT (id) DO UPDATE SET host = excluded.host, seen = excluded.seen")
_CANCEL = ("UPDATE deepaas_jobs SET cancel_requested = true WHERE uuid = $1 AND status NOT IN "
           + rows.TERMINAL)
_LOG = ("SELECT start, data FROM deepaas_job_logs WHERE uuid = $1 "
        "AND start + octet_length(data) > $2 ORDER BY start, id")


def mask_url(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) as ``***``."""
    # Replacing pieces of the text keeps the rest as written (urlunsplit would drop an empty
    # host, as in postgresql:///db?host=/run/postgresql).
    parts = urllib.parse.urlsplit(url)
    if parts.password is not None:
        user, _, host = parts.netloc.rpartition("@")
        url = url.replace(parts.netloc, "%s:***@%s" % (user.partition(":")[0], host), 1)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "password" for key, _ in query):
        masked = [(key, "***" if key == "password" else value) for key, value in query]
        url = url.replace("?" + parts.query, "?" + urllib.parse.urlencode(masked, safe="*/"), 1)
    return url


def _import_asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError:
        raise ConfigError("a postgresql:// job store needs asyncpg: "
                          "pip install 'deepaas[postgres]'") from None
    return asyncpg


class PostgresStore:
    """Job records in a PostgreSQL database that several servers share, through a small pool.

    Every call is one statement or one transaction on a connection of the pool.
    """

    shared = True

    def __init__(self, url: str) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("postgresql", "postgres"):
            raise ConfigError("not a PostgreSQL URL: %s" % mask_url(url))
        self._url = url
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        return rows.opened(self._pool)

    async def open(self) -> None:
        """Connect, then create or migrate the schema under an advisory lock."""
        self._pool = await self._connect(_import_asyncpg())
        try:
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def _connect(self, asyncpg: Any) -> asyncpg.Pool:
        try:
            return await asyncpg.create_pool(self._url, min_size=1, max_size=_POOL_SIZE,
                                             timeout=_CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError, ValueError, asyncpg.PostgresError,
                asyncpg.InterfaceError) as exc:
            # The driver's own words help (refused, unknown user...): keep them, scrubbed.
            raise ConfigError("cannot connect to the job store %s: %s"
                              % (mask_url(self._url), self._scrub(str(exc)))) from None

    def _scrub(self, text: str) -> str:
        """``text`` without the password, should a driver message ever quote it."""
        password = urllib.parse.urlsplit(self._url).password
        for secret in {password, urllib.parse.unquote(password or "")} - {None, ""}:
            text = text.replace(str(secret), "***")
        return text

    async def _migrate(self) -> None:
        # The transaction-scoped lock makes servers that start together migrate one at a time;
        # the later ones find the version recorded and have nothing left to do.
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS deepaas_schema ("
                               "version integer PRIMARY KEY, applied timestamptz NOT NULL "
                               "DEFAULT now())")
            version = await conn.fetchval("SELECT coalesce(max(version), 0) FROM deepaas_schema")
            if version > len(_MIGRATIONS):
                raise ConfigError("the job store %s has schema version %d, newer than this "
                                  "deepaas knows (%d): upgrade deepaas"
                                  % (mask_url(self._url), version, len(_MIGRATIONS)))
            for number, step in enumerate(_MIGRATIONS[version:], start=version + 1):
                await conn.execute(step)
                await conn.execute("INSERT INTO deepaas_schema (version) VALUES ($1)", number)
                LOG.info("job store %s: schema version %d", mask_url(self._url), number)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    # --- records -----------------------------------------------------------------------------

    async def put(self, job: Job) -> bool:
        """Insert or update the record; False when its stored status is terminal (kept)."""
        status = await self.pool.execute(_UPSERT, *rows.to_row(job, text_dates=False))
        return bool(int(status.rsplit(" ", 1)[-1]))  # "INSERT 0 <rows written>"

    async def add_metrics(self, uuid: str, points: list[dict[str, Any]]) -> None:
        """Append points to the job's metrics series (all of them or, on failure, none)."""
        await self.pool.executemany("INSERT INTO deepaas_job_metrics (uuid, data) VALUES ($1, $2)",
                                    [(uuid, dumps(p)) for p in points])

    async def get(self, uuid: str) -> Job | None:
        """The record with its full metrics series."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            row = await conn.fetchrow(_SELECT + " WHERE uuid = $1", uuid)
            if row is None:
                return None
            series = await conn.fetch("SELECT data FROM deepaas_job_metrics WHERE uuid = $1 "
                                      "ORDER BY id", uuid)
        job = rows.from_row(row)
        job.metrics = [json.loads(point["data"]) for point in series]
        return job

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[Job]:
        """Records of a model, oldest first, without their metrics series."""
        found = await self.pool.fetch(_FIND, model, [s.value for s in statuses], limit, offset)
        return [rows.from_row(row) for row in found]

    async def counts(self) -> dict[tuple[str, str], int]:
        """``{(model, status): number of jobs}``."""
        found = await self.pool.fetch("SELECT model, status, count(*) FROM deepaas_jobs "
                                      "GROUP BY model, status")
        return {(model, status): count for model, status, count in found}

    async def unfinished(self) -> list[Job]:
        """Records still queued or running, oldest first."""
        query = _SELECT + " WHERE status IN %s ORDER BY id" % rows.UNFINISHED
        return [rows.from_row(row) for row in await self.pool.fetch(query)]

    async def statuses(self) -> dict[str, JobStatus]:
        """``{uuid: status}`` of every record."""
        found = await self.pool.fetch("SELECT uuid, status FROM deepaas_jobs")
        return {row["uuid"]: JobStatus(row["status"]) for row in found}

    # --- several servers over one store ------------------------------------------------------

    async def heartbeat(self, replica: str, host: str) -> None:
        """Record that ``replica`` is alive now, by the database's clock."""
        await self.pool.execute(_BEAT, replica, host)

    async def leave(self, replica: str) -> None:
        """Forget ``replica``."""
        await self.pool.execute("DELETE FROM deepaas_replicas WHERE id = $1", replica)

    async def orphans(self, stale_after: float) -> list[Job]:
        """Unfinished records whose owner is none, unknown, or silent for ``stale_after`` s."""
        return [rows.from_row(row) for row in await self.pool.fetch(_ORPHANS, float(stale_after))]

    async def request_cancel(self, uuid: str) -> None:
        """Ask the owner to cancel the job; a finished job has nothing left to cancel."""
        await self.pool.execute(_CANCEL, uuid)

    async def cancel_requests(self, uuids: list[str]) -> set[str]:
        """Which of ``uuids`` someone asked to cancel."""
        found = await self.pool.fetch("SELECT uuid FROM deepaas_jobs WHERE cancel_requested "
                                      "AND uuid = ANY($1::text[])", uuids)
        return {row["uuid"] for row in found}

    async def append_log(self, uuid: str, start: int, data: bytes) -> None:
        """Store ``data``, the job's log from byte ``start``."""
        await self.pool.execute("INSERT INTO deepaas_job_logs (uuid, start, data) "
                                "VALUES ($1, $2, $3)", uuid, start, data)

    async def read_log(self, uuid: str, offset: int = 0) -> bytes:
        """The stored log from byte ``offset`` on."""
        found = await self.pool.fetch(_LOG, uuid, offset)
        return rows.join_log(((row["start"], row["data"]) for row in found), offset)

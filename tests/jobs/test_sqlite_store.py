"""The SQLite store's own concerns: schema versions and the files of earlier releases."""

from __future__ import annotations

import asyncio
import datetime
import sqlite3

import pytest

from deepaas.exceptions import ConfigError
from deepaas.jobs.records import JobStatus
from deepaas.jobs.sqlite import SQLiteStore
from tests.jobs.test_store import job

# The schema of the releases before schema versions (deepaas/jobs/sqlite.py at HEAD~3), which
# left PRAGMA user_version at 0.
OLD_SCHEMA = """
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


def _columns(path, table):
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(%s)" % table)]


def _version(path):
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


@pytest.fixture
def old_file(tmp_path):
    """A data dir's jobs file as the previous release left it: one finished training."""
    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO jobs (uuid, model, status, date, start_date, finish_date, args, "
                   "output, message, pid, progress) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   ("old", "m", "done", "2025-01-02T03:04:05.123456", "2025-01-02T03:04:06",
                    "2025-01-02T04:00:00", '{"epochs": 2}', '{"acc": 0.5}', None, 77,
                    '{"step": 2, "total": 2}'))
        db.execute("INSERT INTO metrics (uuid, data) VALUES ('old', '{\"step\": 1}')")
        db.execute("INSERT INTO metrics (uuid, data) VALUES ('old', '{\"step\": 2}')")
    assert _version(path) == 0
    return path


async def test_a_file_of_the_previous_release_keeps_its_records(old_file):
    store = SQLiteStore(old_file)
    await store.open()
    try:
        old = await store.get("old")
        assert old is not None and old.owner is None and old.status is JobStatus.DONE
        assert old.date == datetime.datetime(2025, 1, 2, 3, 4, 5, 123456)
        assert (old.args, old.output, old.pid) == ({"epochs": 2}, {"acc": 0.5}, 77)
        assert old.metrics == [{"step": 1}, {"step": 2}]
        # the new columns and tables work on the migrated file
        assert await store.put(job("new", owner="r1")) is True
        await store.request_cancel("new")
        assert await store.cancel_requests(["old", "new"]) == {"new"}
        await store.append_log("new", 0, b"log")
        assert [j.uuid for j in await store.find("m")] == ["old", "new"]
    finally:
        await store.close()
    assert _version(old_file) == 5
    assert _columns(old_file, "jobs")[-5:] == ["owner", "cancel_requested", "files",
                                               "resources", "placement"]


async def test_reopening_a_current_file_changes_nothing(tmp_path):
    path = tmp_path / "deep" / "jobs.sqlite3"
    for name in ("first", "second"):
        store = SQLiteStore(path)
        await store.open()
        await store.put(job(name))
        await store.close()
    assert _version(path) == 5
    assert _columns(path, "replicas") == ["id", "host", "seen"]
    assert _columns(path, "job_logs") == ["uuid", "start", "data"]
    store = SQLiteStore(path)
    await store.open()
    assert [j.uuid for j in await store.find("m")] == ["first", "second"]
    await store.close()


async def test_a_file_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 9")
    store = SQLiteStore(path)
    with pytest.raises(ConfigError, match="version 9, newer"):
        await store.open()
    assert _version(path) == 9
    with pytest.raises(RuntimeError, match="not open"):
        await store.get("a")


async def test_a_failed_migration_leaves_the_file_as_it_was(old_file):
    # A table in the way of version 2 makes its third statement fail after two succeeded.
    with sqlite3.connect(old_file) as db:
        db.execute("CREATE TABLE replicas (x)")
    store = SQLiteStore(old_file)
    with pytest.raises(sqlite3.OperationalError, match="replicas"):
        await store.open()
    assert _version(old_file) == 0
    assert "owner" not in _columns(old_file, "jobs")


async def test_two_stores_making_one_new_file_at_once_both_open(tmp_path):
    # Both switch the new file to WAL at the same moment, where SQLite answers one of them
    # "database is locked" at once (no busy wait): seen about once in ten pairs before the
    # switch was tried again. Twenty fresh pairs make the race near certain.
    for n in range(20):
        path = tmp_path / str(n) / "jobs.sqlite3"
        first, second = SQLiteStore(path), SQLiteStore(path)
        try:
            await asyncio.gather(first.open(), second.open())
            assert (await first.unfinished()) == (await second.unfinished()) == []
        finally:
            await first.close()
            await second.close()

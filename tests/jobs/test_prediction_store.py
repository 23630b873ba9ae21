"""The prediction records' table, held by both stores: SQLite always, PostgreSQL in the
cluster tests. Each opens through its job store, as the server does."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import AsyncIterator
from typing import Any

import pytest

from deepaas.jobs.prediction_records import PredictionRecord, PredictionStore
from deepaas.jobs.records import JobStatus
from deepaas.jobs.sqlite import SQLiteStore
from deepaas.jobs.sqlite_predictions import SQLitePredictions

R, D, E, C = JobStatus.RUNNING, JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED
WHEN = datetime.datetime(2026, 3, 4, 5, 6, 7, 890123)


def record(uuid: str, status: JobStatus = R, model: str = "m", **fields: Any
           ) -> PredictionRecord:
    return PredictionRecord(uuid=uuid, model=model, args={"n": 3, "f": ["x", "text/plain"]},
                            date=WHEN, status=status, **fields)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.cluster)])
async def pair(request: Any, tmp_path: Any) -> AsyncIterator[tuple[Any, PredictionStore]]:
    """(the job store, opened; the predictions' store over it)."""
    if request.param == "sqlite":
        jobs: Any = SQLiteStore(tmp_path / "jobs.sqlite3")
        await jobs.open()
        yield jobs, SQLitePredictions(jobs)
    else:
        pytest.importorskip("asyncpg")
        from deepaas.jobs.postgres import PostgresStore
        from deepaas.jobs.postgres_predictions import PostgresPredictions

        jobs = PostgresStore(request.getfixturevalue("postgres_db"))
        await jobs.open()
        yield jobs, PostgresPredictions(jobs)
    await jobs.close()


async def test_records_round_trip_json_and_binary(pair):
    _, store = pair
    running = record("a", owner="r1")
    assert await store.put(running) is True
    assert await store.get("a") == running
    done = dataclasses.replace(running, status=D, finish_date=WHEN + datetime.timedelta(2),
                               result='{"status": "OK", "predictions": [1, 2]}')
    assert await store.put(done) is True
    assert await store.get("a") == done
    binary = record("b", D, finish_date=WHEN, body=b"\x89PNG\x00\xff", content_type="image/png")
    await store.put(binary)
    assert await store.get("b", with_body=True) == binary
    assert (await store.get("b")).body is None  # lists and records leave the bytes out
    assert (await store.get("b")).content_type == "image/png"
    assert await store.get("nope") is None


async def test_the_first_ending_wins(pair):
    _, store = pair
    await store.put(record("a"))
    assert await store.put(record("a", C, finish_date=WHEN)) is True
    assert await store.put(record("a", D, finish_date=WHEN, result="1")) is False
    assert (await store.get("a")).status is C


async def test_find_filters_and_pages_in_submission_order(pair):
    _, store = pair
    for i, status in enumerate([R, D, E, C, D]):
        await store.put(record("a%d" % i, status, finish_date=None if status is R else WHEN))
    await store.put(record("other", D, model="n", finish_date=WHEN))
    await store.put(record("a0", R, owner="again"))  # an update keeps its place
    assert [r.uuid for r in await store.find("m")] == ["a0", "a1", "a2", "a3", "a4"]
    assert [r.uuid for r in await store.find("m", (D,))] == ["a1", "a4"]
    assert [r.uuid for r in await store.find("m", (D, E), limit=1, offset=1)] == ["a2"]
    assert [r.uuid for r in await store.find("m", offset=3)] == ["a3", "a4"]


async def test_expire_removes_only_what_ended_before_the_cutoff(pair):
    _, store = pair
    await store.put(record("old", D, finish_date=WHEN - datetime.timedelta(days=8)))
    await store.put(record("new", E, finish_date=WHEN - datetime.timedelta(days=1)))
    await store.put(record("running"))
    assert await store.expire(WHEN - datetime.timedelta(days=7)) == 1
    assert [r.uuid for r in await store.find("m")] == ["new", "running"]


async def test_orphans_are_running_records_of_owners_gone_silent(pair):
    jobs, store = pair
    await jobs.heartbeat("alive", "host")
    for uuid, owner in (("mine", "alive"), ("gone", "gone"), ("none", None)):
        await store.put(record(uuid, owner=owner))
    await store.put(record("ended", D, owner="gone", finish_date=WHEN))
    assert [r.uuid for r in await store.orphans(None)] == ["mine", "gone", "none"]
    assert [r.uuid for r in await store.orphans(60.0)] == ["gone", "none"]

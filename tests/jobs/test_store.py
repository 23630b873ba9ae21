"""The JobStore contract, held by both stores: SQLite always, PostgreSQL in the cluster tests."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from deepaas.jobs.records import Job, JobStatus
from deepaas.jobs.sqlite import SQLiteStore
from deepaas.jobs.store import JobStore

Q, R, D, E, C = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE, JobStatus.ERROR,
                 JobStatus.CANCELLED)
WHEN = datetime.datetime(2026, 3, 4, 5, 6, 7, 890123)


def job(uuid: str, status: JobStatus = Q, model: str = "m", **fields: Any) -> Job:
    return Job(uuid=uuid, model=model, args={"epochs": 3, "opts": {"lr": 0.1, "tags": ["a"]}},
               date=WHEN, status=status, **fields)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.cluster)])
def make_store(request: Any, tmp_path: Any) -> Callable[[], JobStore]:
    """A maker of stores that all use one new file or database."""
    if request.param == "sqlite":
        return lambda: SQLiteStore(tmp_path / "data" / "jobs.sqlite3")
    pytest.importorskip("asyncpg")
    from deepaas.jobs.postgres import PostgresStore

    url = request.getfixturevalue("postgres_db")
    return lambda: PostgresStore(url)


@pytest.fixture
async def store(make_store: Callable[[], JobStore]) -> AsyncIterator[JobStore]:
    opened = make_store()
    await opened.open()
    yield opened
    await opened.close()


async def test_records_round_trip_with_every_field(store):
    full = job("a", R, start_date=WHEN + datetime.timedelta(seconds=1), output={"acc": [0.9]},
               message="going", pid=4242, progress={"step": 1, "total": 4, "fraction": 0.25},
               owner="replica-1", files=[{"name": "plots/loss.csv", "size": 12,
                                          "url": "webdavs://cloud.example.org/out/loss.csv"}])
    assert await store.put(full) is True
    assert await store.get("a") == full
    ended = dataclasses.replace(full, status=D, finish_date=WHEN + datetime.timedelta(hours=2),
                                owner=None, output=None, progress=None, message=None,
                                files=None)
    assert await store.put(ended) is True
    assert await store.get("a") == ended
    assert (await store.get("a")).duration == datetime.timedelta(hours=2)
    assert await store.get("nope") is None


async def test_find_lists_a_models_jobs_in_submission_order(store):
    statuses = [Q, R, D, E, C]
    for i, status in enumerate(statuses):
        await store.put(job("a%d" % i, status, owner="r%d" % i))
    await store.put(job("b0", R, model="other"))
    await store.add_metrics("a1", [{"step": 1}])
    await store.put(job("a0", R, owner="r0"))  # an update keeps its place in the order

    found = await store.find("m")
    assert [j.uuid for j in found] == ["a0", "a1", "a2", "a3", "a4"]
    assert [j.owner for j in found] == ["r0", "r1", "r2", "r3", "r4"]
    assert all(j.metrics == [] for j in found)  # lists leave the series out
    assert [j.uuid for j in await store.find("m", (D, E))] == ["a2", "a3"]
    assert [j.uuid for j in await store.find("m", limit=2, offset=1)] == ["a1", "a2"]
    assert [j.uuid for j in await store.find("m", offset=3)] == ["a3", "a4"]
    assert await store.find("m", (R,), limit=0) == []
    assert await store.find("unknown") == []
    assert [j.uuid for j in await store.unfinished()] == ["a0", "a1", "b0"]
    assert await store.counts() == {("m", "running"): 2, ("m", "done"): 1, ("m", "error"): 1,
                                    ("m", "cancelled"): 1, ("other", "running"): 1}


async def test_metrics_series_grows_in_order(store):
    await store.put(job("a", R))
    await store.put(job("b", R))
    await store.add_metrics("a", [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25}])
    await store.add_metrics("b", [{"step": 1, "loss": 9.0}])
    await store.add_metrics("a", [])
    await store.add_metrics("a", [{"step": 3, "loss": 0.125, "time": "2026-03-04 05:06:07"}])
    assert [p["step"] for p in (await store.get("a")).metrics] == [1, 2, 3]
    assert (await store.get("a")).metrics[2] == {"step": 3, "loss": 0.125,
                                                 "time": "2026-03-04 05:06:07"}
    assert (await store.get("b")).metrics == [{"step": 1, "loss": 9.0}]


async def test_statuses_of_every_record(store):
    assert await store.statuses() == {}
    for uuid, status, model in (("a", Q, "m"), ("b", D, "other"), ("c", R, "m")):
        await store.put(job(uuid, status, model=model))
    await store.put(job("c", E))
    assert await store.statuses() == {"a": Q, "b": D, "c": E}


@pytest.mark.parametrize("ending", [D, E, C])
async def test_the_first_ending_wins(store, ending):
    final = job("a", ending, message="the end", finish_date=WHEN, owner="r1")
    assert await store.put(job("a", R)) is True
    assert await store.put(final) is True
    for later in (job("a", R, owner="r2"), job("a", E, message="other end"), final):
        assert await store.put(later) is False
    assert await store.get("a") == final
    assert await store.unfinished() == []


async def test_cancel_requests_survive_puts(store):
    for uuid, status in (("a", R), ("b", Q), ("c", D)):
        await store.put(job(uuid, status))
    assert await store.cancel_requests(["a", "b", "c"]) == set()
    await store.request_cancel("a")
    await store.request_cancel("c")  # already over: nothing to cancel
    await store.request_cancel("never-submitted")
    assert await store.cancel_requests(["a", "b", "c", "never-submitted"]) == {"a"}
    assert await store.put(job("a", R, progress={"step": 2}, owner="r1")) is True
    assert await store.cancel_requests(["a", "b"]) == {"a"}
    assert await store.cancel_requests(["b"]) == set()
    assert await store.cancel_requests([]) == set()


async def test_orphans_are_the_jobs_of_silent_or_unknown_owners(store):
    await store.heartbeat("alive", "host-1")
    await store.heartbeat("quiet", "host-2")
    for uuid, status, owner in (("mine", R, "alive"), ("queued", Q, "alive"), ("ghost", R, "gone"),
                                ("nobody", Q, None), ("over", D, "gone"), ("q2", R, "quiet")):
        await store.put(job(uuid, status, owner=owner))

    # (a window wide enough for a busy machine to write the records within it)
    assert [j.uuid for j in await store.orphans(1.5)] == ["ghost", "nobody"]
    deadline = time.monotonic() + 20
    while True:  # until "quiet" has been silent for 1.5 s while "alive" beats
        await store.heartbeat("alive", "host-1")
        orphans = [j.uuid for j in await store.orphans(1.5)]
        if orphans != ["ghost", "nobody"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert orphans == ["ghost", "nobody", "q2"]
    assert [j.uuid for j in await store.orphans(60)] == ["ghost", "nobody"]
    await store.leave("alive")
    assert [j.uuid for j in await store.orphans(60)] == ["mine", "queued", "ghost", "nobody"]


async def test_logs_are_read_from_any_offset(store):
    chunks = [b"hello ", b"wide ", b"world\n", b"\xe2\x9c\x93 done"]
    start = 0
    for chunk in chunks:
        await store.append_log("a", start, chunk)
        start += len(chunk)
    await store.append_log("b", 0, b"another job")
    whole = b"".join(chunks)
    for offset in range(len(whole) + 2):
        assert await store.read_log("a", offset) == whole[offset:], offset
    assert await store.read_log("b") == b"another job"
    assert await store.read_log("none") == b""
    # A chunk sent again (its write seemed to fail) does not repeat bytes.
    await store.append_log("b", 8, b"job and more")
    assert await store.read_log("b", 3) == b"ther job and more"


async def test_stores_opened_at_once_share_the_records(make_store):
    first, second = make_store(), make_store()
    await asyncio.gather(first.open(), second.open())
    try:
        writes = [s.put(job("%s%d" % (name, i), R)) for name, s in (("x", first), ("y", second))
                  for i in range(10)]
        writes += [s.add_metrics("x0", [{"step": i}]) for i, s in enumerate([first, second] * 5)]
        assert await asyncio.gather(*writes) == [True] * 20 + [None] * 10
        for reader in (first, second):
            assert len(await reader.find("m")) == 20
            assert sorted(p["step"] for p in (await reader.get("x0")).metrics) == list(range(10))
    finally:
        await asyncio.gather(first.close(), second.close())


def test_the_default_path_never_imports_asyncpg():
    code = ("import sys, deepaas.cmd.run, deepaas.jobs, deepaas.jobs.sqlite, deepaas.jobs.postgres;"
            "assert 'asyncpg' not in sys.modules, 'asyncpg was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

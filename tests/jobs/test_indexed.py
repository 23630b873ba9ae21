"""The job folders hold every record; the store is their index, rebuilt and repaired from them."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from deepaas.jobs.folders import METRICS, RECORD, JobFolders
from deepaas.jobs.indexed import IndexedStore
from deepaas.jobs.records import JobStatus
from deepaas.jobs.sqlite import SQLiteStore
from tests.jobs.test_store import WHEN, job

R, D, E = JobStatus.RUNNING, JobStatus.DONE, JobStatus.ERROR
FULL = sqlite3.OperationalError("database or disk is full")


class Flaky(SQLiteStore):
    """A SQLite index whose writes and reads fail while ``failure`` is set; with ``damage``,
    its file is found damaged when it is opened again (as if spoilt under the server)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.failure: Exception | None = None
        self.failed = 0  # calls that failed
        self.damage = False

    def _check(self) -> None:
        if self.failure is not None:
            self.failed += 1
            raise self.failure

    async def put(self, job: Any) -> bool:
        self._check()
        return await super().put(job)

    async def add_metrics(self, uuid: str, points: list[dict[str, Any]]) -> None:
        self._check()
        await super().add_metrics(uuid, points)

    async def get(self, uuid: str) -> Any:
        self._check()
        return await super().get(uuid)

    async def close(self) -> None:
        await super().close()
        if self.damage:
            self.damage, self.failure = False, None
            self._path.write_bytes(b"\x07" * 8192)


def _store(tmp_path: Path, index: SQLiteStore | None = None) -> IndexedStore:
    return IndexedStore(index or SQLiteStore(tmp_path / "jobs.sqlite3"), tmp_path / "jobs")


def _folder(tmp_path: Path, uuid: str) -> Path:
    folder = tmp_path / "jobs" / uuid
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _until(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not reached in %s s" % seconds
        await asyncio.sleep(0.02)


async def test_each_change_is_written_to_the_jobs_folder(tmp_path):
    store = _store(tmp_path)
    await store.open()
    folder = _folder(tmp_path, "a")
    try:
        await store.put(job("a"))
        assert json.loads((folder / RECORD).read_text())["status"] == "queued"
        await store.add_metrics("a", [{"step": 1, "loss": 0.5}, {"step": 2}])
        ended = job("a", D, output={"acc": {0.5}}, finish_date=WHEN, files=[{"name": "w"}])
        assert await store.put(ended) is True
        assert await store.put(job("a", E, message="later")) is False  # first ending wins
        kept = json.loads((folder / RECORD).read_text())
        assert (kept["status"], kept["output"], kept["format"]) == ("done", {"acc": [0.5]}, 1)
        assert (folder / METRICS).read_text().splitlines() == [
            '{"step": 1, "loss": 0.5}', '{"step": 2}']
        from_folder = JobFolders(tmp_path / "jobs").read("a")
        assert from_folder == dataclasses.replace(await store.get("a"), output={"acc": [0.5]})
        assert sorted(p.name for p in folder.iterdir()) == [METRICS, RECORD]  # no temp file
        await store.put(job("b"))  # no folder (another server's training): none is made
        assert not (tmp_path / "jobs" / "b").exists()
    finally:
        await store.close()


async def _records_of(store: IndexedStore, uuids: list[str]) -> list[Any]:
    return [await store.get(uuid) for uuid in uuids]


async def test_open_writes_to_the_index_what_it_lacks(tmp_path, caplog):
    store = _store(tmp_path)
    await store.open()
    for name, status in (("a", D), ("b", E), ("c", R)):
        _folder(tmp_path, name)
        await store.put(job(name, status, message=name, finish_date=WHEN))
        await store.add_metrics(name, [{"step": 1}, {"step": 2}])
    before = await _records_of(store, ["a", "b", "c"])
    await store.close()
    with sqlite3.connect(tmp_path / "jobs.sqlite3") as db:  # "a" lost, "b" written long ago
        db.execute("DELETE FROM jobs WHERE uuid IN ('a', 'b')")
        db.execute("DELETE FROM metrics WHERE uuid = 'a'")
        db.execute("INSERT INTO jobs (uuid, model, status, date, args) "
                   "VALUES ('b', 'm', 'running', ?, '{}')", (WHEN.isoformat(),))

    caplog.set_level(logging.WARNING, "deepaas.jobs.indexed")
    store = _store(tmp_path)
    await store.open()
    try:
        assert await _records_of(store, ["a", "b", "c"]) == before
        assert [j.uuid for j in await store.find("m")] == ["c", "b", "a"]  # a: added last
        assert store.reconciled is not None and store.reconciled.written == 2
    finally:
        await store.close()
    assert ("rebuilt the job index from 3 job folders: it lacked 1 of their records and held 1 "
            "in an older state") in caplog.text


async def test_folders_of_an_earlier_release_get_their_records(tmp_path):
    old = SQLiteStore(tmp_path / "jobs.sqlite3")  # what the release before this one wrote
    await old.open()
    await old.put(job("a", D, finish_date=WHEN))
    await old.add_metrics("a", [{"step": 1}])
    await old.close()
    folder = _folder(tmp_path, "a")
    store = _store(tmp_path)
    await store.open()
    await store.close()
    assert json.loads((folder / RECORD).read_text())["status"] == "done"
    assert JobFolders(tmp_path / "jobs").read("a").metrics == [{"step": 1}]


async def test_a_failing_index_loses_nothing_and_says_so_twice(tmp_path, caplog):
    caplog.set_level(logging.INFO, "deepaas.jobs.indexed")
    index = Flaky(tmp_path / "jobs.sqlite3")
    store = _store(tmp_path, index)
    await store.open()
    try:
        _folder(tmp_path, "a")
        live = job("a", R)
        await store.put(live)
        index.failure = FULL
        live.metrics = [{"step": 1}, {"step": 2}]
        await store.add_metrics("a", live.metrics)  # neither raises
        live.status, live.output, live.finish_date = D, {"acc": 1}, WHEN
        assert await store.put(live) is True
        assert store.problem == "OperationalError: database or disk is full"
        assert (await store.get("a")).status is D  # from the folder, as it truly is
        assert [j.status for j in await store.find("m")] == [D]
        assert json.loads((tmp_path / "jobs" / "a" / RECORD).read_text())["status"] == "done"
        await _until(lambda: index.failed >= 3)  # retries fail meanwhile
        index.failure = None
        await _until(lambda: store.problem is None)
        stored = await SQLiteStore.get(index, "a")
        assert (stored.status, stored.output, stored.metrics) == (D, {"acc": 1}, live.metrics)
    finally:
        await store.close()
    said = [r.getMessage() for r in caplog.records]
    assert sum("cannot be written" in m for m in said) == 1
    assert sum("works again: 1 training record(s) written" in m for m in said) == 1


async def test_an_index_damaged_under_the_server_is_moved_aside_and_rebuilt(tmp_path, caplog):
    index = Flaky(tmp_path / "jobs.sqlite3")
    store = _store(tmp_path, index)
    await store.open()
    try:
        for name in ("a", "b"):
            _folder(tmp_path, name)
            await store.put(job(name, D, finish_date=WHEN))
        index.failure = sqlite3.DatabaseError("database disk image is malformed")
        index.damage = True
        _folder(tmp_path, "c")
        await store.put(job("c", R))
        await _until(lambda: store.problem is None)
        assert [j.uuid for j in await store.find("m")] == ["a", "b", "c"]
        assert len(list(tmp_path.glob("jobs.sqlite3.damaged-*"))) == 1
    finally:
        await store.close()
    assert "is damaged (file is not a database): moved aside as" in caplog.text
    assert "rebuilt the job index from 3 job folders: it held no records" in caplog.text


FAILED_START = """
import asyncio, sys
from pathlib import Path
from deepaas.jobs.executor import LocalExecutor
from deepaas.jobs.indexed import IndexedStore
from deepaas.jobs.manager import JobManager
from deepaas.jobs.sqlite import SQLiteStore

class Unreachable(LocalExecutor):
    async def open(self):
        raise RuntimeError("cluster out of reach")

data = Path(sys.argv[1])
store = IndexedStore(SQLiteStore(data / "jobs.sqlite3"), data / "jobs")
try:
    asyncio.run(JobManager(store, data, executor=Unreachable()).start())
except RuntimeError as exc:
    print("start failed:", exc)
"""


def test_a_failed_start_leaves_no_thread_to_hang_the_exit(tmp_path):
    # The cause of the hang at start: an open store's thread outlived the failed start.
    done = subprocess.run([sys.executable, "-c", FAILED_START, str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "start failed: cluster out of reach\n"

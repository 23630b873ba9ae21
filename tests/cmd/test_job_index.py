"""The job index (DATA_DIR/jobs.sqlite3) emptied, damaged or unopenable between two runs of a
real deepaas-run: every record comes back from the job folders, and nothing hangs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deepaas.jobs.records import JobStatus
from tests.cmd.test_run import BIN, _get, _post, _start, _stop
from tests.helpers import installed_models

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="deepaas-run is not installed")

TRAIN = "/v2/models/trainer/train/"


def _trainer_env(root: Path) -> dict[str, str]:
    """A server environment where tests/models/trainer.py is the model "trainer"."""
    return installed_models(root, {"trainer": "tests.models.trainer"})


def _json(url: str) -> Any:
    return json.loads(_get(url)[1])


def _until_ended(base: str, uuids: list[str]) -> None:
    deadline = time.monotonic() + 60
    while any(_json(base + TRAIN + u)["status"] == "running" for u in uuids):
        assert time.monotonic() < deadline, "trainings did not end"
        time.sleep(0.1)


def _shown(base: str) -> dict[str, Any]:
    """Everything the API shows of the trainings: the list and each full record."""
    listed = _json(base + TRAIN)
    return {"list": listed, "records": {j["uuid"]: _json(base + TRAIN + j["uuid"]) for j in listed}}


@contextlib.contextmanager
def _served(data: Path, env: dict[str, str], log: list[str]) -> Iterator[tuple[str, float]]:
    """A deepaas-run on ``data``: its base URL and the seconds it took to listen; its output
    goes to ``log`` once it stopped (cleanly)."""
    began = time.monotonic()
    proc, base = _start(data, "--model-name", "trainer", "--trainings-per-model", "4", env=env)
    took = time.monotonic() - began
    try:
        yield base, took
    finally:
        code, _ = _stop(proc, signal.SIGTERM)
        log.append(proc.stdout.read())
        assert code == 0, log[-1]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: Any) -> tuple[Path, dict[str, str], dict[str, Any]]:
    """A data dir where a stopped server left 9 ended trainings (6 done with metrics, 2
    failed, 1 cancelled), the environment to serve it, and what the API showed of them."""
    root = tmp_path_factory.mktemp("index")
    env, data, log = _trainer_env(root / "mods"), root / "data", []
    with _served(data, env, log) as (base, _):
        url = base + TRAIN
        uuids = [_post(url + "?steps=3&epochs=%d" % i)["uuid"] for i in range(6)]
        uuids += [_post(url + "?fail=value")["uuid"] for _ in range(2)]
        _until_ended(base, uuids)
        gated = _post(url + "?gate=" + str(root / "never-opened"))["uuid"]
        req = urllib.request.Request(url + gated, method="DELETE")
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert json.loads(resp.read())["status"] == "cancelled"
        shown = _shown(base)
    statuses = sorted(j["status"] for j in shown["list"])
    assert statuses == ["cancelled"] + ["done"] * 6 + ["error"] * 2
    assert all(len(shown["records"][u]["metrics"]) == 3 for u in uuids[:6])
    return data, env, shown


def _copy(finished: tuple[Path, dict[str, str], dict[str, Any]], tmp_path: Path) -> Path:
    shutil.copytree(finished[0], tmp_path / "data")
    return tmp_path / "data"


def _damage(path: Path, at: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(at)
        handle.write(data)


def test_an_emptied_index_is_rebuilt_from_the_job_folders(finished, tmp_path):
    data = _copy(finished, tmp_path)
    os.truncate(data / "jobs.sqlite3", 0)
    log: list[str] = []
    with _served(data, finished[1], log) as (base, _):
        assert _shown(base) == finished[2]
    assert "rebuilt the job index from 9 job folders: it held no records" in log[0]


def test_a_damaged_index_is_moved_aside_and_the_server_listens(finished, tmp_path):
    data = _copy(finished, tmp_path)
    index = data / "jobs.sqlite3"
    size = index.stat().st_size
    _damage(index, max(size // 2 - 16384, 0), os.urandom(32768))
    log: list[str] = []
    with _served(data, finished[1], log) as (base, took):  # _start: listening within 30 s
        assert _shown(base) == finished[2]
    aside = list(data.glob("jobs.sqlite3.damaged-*"))
    assert [p.name for p in aside if p.stat().st_size == size] == [aside[0].name]
    assert "is damaged" in log[0] and "moved aside as" in log[0]
    assert "rebuilt the job index from 9 job folders" in log[0]
    assert took < 30


def test_an_index_cut_short_is_rebuilt_and_new_trainings_end(finished, tmp_path):
    data = _copy(finished, tmp_path)
    index = data / "jobs.sqlite3"
    _damage(index, index.stat().st_size - 8192, bytes(8192))
    log: list[str] = []
    with _served(data, finished[1], log) as (base, _):
        assert _shown(base) == finished[2]
        new = _post(base + TRAIN + "?steps=2")["uuid"]
        _until_ended(base, [new])
        assert _json(base + TRAIN + new)["status"] == "done"
        assert _get(base + "/v2/health/ready")[0] == 200
    assert "rebuilt the job index from 9 job folders" in log[0]
    with _served(data, finished[1], log) as (base, _):  # and the new one was indexed
        assert _json(base + TRAIN + new)["status"] == "done"
        assert len(_json(base + TRAIN)) == 10
    assert "rebuilt the job index" not in log[1]


def test_a_training_a_killed_server_left_running_ends_as_interrupted(tmp_path):
    env, data, log = _trainer_env(tmp_path / "mods"), tmp_path / "data", []
    proc, base = _start(data, "--model-name", "trainer", env=env)
    try:
        gated = _post(base + TRAIN + "?gate=" + str(tmp_path / "never-opened"))["uuid"]
        record = data / "jobs" / gated / "record.json"
        deadline = time.monotonic() + 30
        while json.loads(record.read_text())["status"] != "running":
            assert time.monotonic() < deadline, "the training did not start"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    os.truncate(data / "jobs.sqlite3", 0)
    with _served(data, env, log) as (base, _):
        found = _json(base + TRAIN + gated)
    assert (found["status"], found["message"]) == (
        "error", "the server stopped while this training was running")
    assert "rebuilt the job index from 1 job folders: it held no records" in log[0]


def test_a_store_that_cannot_be_opened_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "jobs.sqlite3").mkdir()
    began = time.monotonic()
    done = subprocess.run([str(BIN), "--listen-port", "0", "--data-dir", str(tmp_path),
                           "--model-name", "compatmod"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - began < 30
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(
        "deepaas-run: cannot open the job store %s: " % (tmp_path / "jobs.sqlite3"))


async def _lose_database(url: str) -> None:
    asyncpg = pytest.importorskip("asyncpg")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE deepaas_jobs, deepaas_job_metrics, deepaas_replicas, "
                           "deepaas_job_logs, deepaas_schema")
    finally:
        await conn.close()


def _import(data: Path, url: str) -> str:
    done = subprocess.run([str(BIN), "--import-jobs", "--data-dir", str(data)], text=True,
                          capture_output=True, timeout=60, env={**os.environ,
                                                                "DEEPAAS_JOB_STORE": url})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.cluster
async def test_a_replica_that_loses_its_database_keeps_records_to_import(tmp_path, postgres_db,
                                                                         caplog):
    pytest.importorskip("asyncpg")
    from deepaas.jobs.indexed import IndexedStore
    from deepaas.jobs.postgres import PostgresStore
    from tests.jobs.test_store import WHEN, job

    store = IndexedStore(PostgresStore(postgres_db), tmp_path / "jobs")
    await store.open()
    for name in ("a", "b"):
        (tmp_path / "jobs" / name).mkdir(parents=True)
    await store.put(job("a", JobStatus.DONE, finish_date=WHEN, output={"acc": 0.5}))
    await store.add_metrics("a", [{"step": 1}, {"step": 2}])
    await _lose_database(postgres_db)  # under the running replica
    await store.put(job("b", JobStatus.ERROR, message="boom", finish_date=WHEN))
    assert store.problem is not None and "deepaas_jobs" in store.problem
    await store.close()
    assert "deepaas-run --import-jobs copies them into it" in caplog.text

    out = _import(tmp_path, postgres_db)
    assert out == ("deepaas-run: 2 training records in %s: 2 imported into the job store, 0 "
                   "brought up to date there, 0 there already\n" % (tmp_path / "jobs"))
    assert _import(tmp_path, postgres_db).endswith(": 0 imported into the job store, 0 brought "
                                                   "up to date there, 2 there already\n")
    index = PostgresStore(postgres_db)
    await index.open()
    try:
        a, b = await index.get("a"), await index.get("b")
    finally:
        await index.close()
    assert (a.status, a.output, a.metrics) == (JobStatus.DONE, {"acc": 0.5},
                                               [{"step": 1}, {"step": 2}])
    assert (b.status, b.message) == (JobStatus.ERROR, "boom")

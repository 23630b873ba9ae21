"""Several servers over one PostgreSQL job store: each sees, follows and cancels the trainings
the other runs, and closes the books of one that died."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import urllib.request

import pytest

from deepaas.jobs.manager import STOPPED_RUNNING
from deepaas.jobs.process import processes_of
from tests.api.test_train import URL
from tests.cmd.test_run import BIN, _free_port, _start
from tests.helpers import alive, poll_job

pytestmark = pytest.mark.cluster


@pytest.fixture
async def replicas(postgres_db, make_client):
    """Two servers of the trainer model, each with its own data dir, sharing one store."""
    return [await make_client("trainer", job_store=postgres_db, replica_timeout=2)
            for _ in range(2)]


async def _json(resp):
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _read_until(resp, text: bytes, timeout: float = 30.0) -> bytes:
    seen = b""
    while text not in seen:
        seen += await asyncio.wait_for(resp.content.readany(), timeout)
    return seen


async def test_a_training_started_on_one_replica_is_listed_followed_and_cancelled_on_another(
        replicas, tmp_path):
    one, other = replicas
    job = await _json(await one.post(URL, params={"gate": str(tmp_path / "never"),
                                                  "steps": "3"}))
    # the other replica lists it, shows its progress and follows its log as it grows
    follow = await other.get(URL + job["uuid"] + "/logs", params={"follow": "true"})
    assert follow.status == 200
    await _read_until(follow, b"waiting at the gate")
    listed = await _json(await other.get(URL))
    assert [(j["uuid"], j["status"]) for j in listed] == [(job["uuid"], "running")]
    seen = await _json(await other.get(URL + job["uuid"]))
    assert [m["step"] for m in seen["metrics"]] == [1, 2, 3]
    # cancelled through the other replica: the one running it stops it, both agree
    cancelled = await _json(await other.delete(URL + job["uuid"]))
    assert cancelled["status"] == "cancelled"
    assert (await _json(await one.get(URL + job["uuid"])))["status"] == "cancelled"
    await asyncio.wait_for(follow.content.read(), 20)  # the stream ends with the training


async def test_each_replica_sees_and_cancels_the_others_trainings(replicas, tmp_path):
    one, other = replicas
    done = await _json(await other.post(URL, params={"steps": "2", "lines": "3"}))
    gated = await _json(await other.post(URL, params={"gate": str(tmp_path / "never")}))
    record = await poll_job(one, URL, done["uuid"])
    assert record["status"] == "done" and record["result"]["output"]["epochs"] == 1
    logs = await (await one.get(URL + done["uuid"] + "/logs")).text()
    assert "training starts" in logs and "line 2 of the training log" in logs
    cancelled = await _json(await one.delete(URL + gated["uuid"]))
    assert cancelled["status"] == "cancelled"
    statuses = {j["uuid"]: j["status"] for j in await _json(await other.get(URL))}
    assert statuses == {done["uuid"]: "done", gated["uuid"]: "cancelled"}


async def test_the_trainings_of_a_replica_that_died_end_in_error(postgres_db, make_client,
                                                                tmp_path):
    proc, base = _start(tmp_path / "a", "--model-name", "demo", "--job-store", postgres_db,
                        "--replica-timeout", "2")
    try:
        request = urllib.request.Request(
            base + "/v2/models/demo/train/?epochs=100&epoch_seconds=60", method="POST",
            data=b"")
        with urllib.request.urlopen(request, timeout=30) as resp:
            uuid = json.loads(resp.read())["uuid"]
        survivor = await make_client("demo", job_store=postgres_db, replica_timeout=2)
        url = "/v2/models/demo/train/"
        deadline = time.monotonic() + 30
        while not (pids := processes_of([uuid])):
            assert time.monotonic() < deadline, "the training never started"
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        began = time.monotonic()
        record = await poll_job(survivor, url, uuid, timeout=30)
        assert record["status"] == "error" and record["message"] == STOPPED_RUNNING
        assert time.monotonic() - began < 10  # found out after the timeout, not at a restart
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids):  # the training died with its server
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)



def test_an_unreachable_job_store_stops_deepaas_run_with_one_clear_line(tmp_path):
    port = _free_port()  # nothing listens there
    out = subprocess.run(
        [str(BIN), "--data-dir", str(tmp_path), "--listen-port", str(_free_port()),
         "--job-store", "postgresql://deepaas:s3cret-pw@127.0.0.1:%d/jobs" % port],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith("deepaas-run: cannot connect to the job store "
                                 "postgresql://deepaas:***@127.0.0.1:%d/jobs" % port)
    assert "Traceback" not in out.stderr and "s3cret-pw" not in out.stdout + out.stderr


async def test_a_training_waiting_in_line_on_one_replica_is_cancelled_through_another(
        replicas, tmp_path):
    one, other = replicas
    gate = tmp_path / "gate"
    running = await _json(await one.post(URL, params={"gate": str(gate)}))
    waiting = await _json(await one.post(URL))  # one training of a model at a time: it waits
    assert waiting["queued"] is True
    cancelled = await _json(await other.delete(URL + waiting["uuid"]))
    assert cancelled["status"] == "cancelled"
    gate.touch()
    assert (await poll_job(other, URL, running["uuid"]))["status"] == "done"
    assert (await _json(await one.get(URL + waiting["uuid"])))["status"] == "cancelled"

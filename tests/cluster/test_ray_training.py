"""Trainings on a real local Ray instance (--executor ray): done, error, cancelled, and a
worker killed under a running training."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp
import pytest

from tests.api.test_train import URL
from tests.api.test_train_outputs import LISTED, WEIGHTS
from tests.helpers import alive, poll_job

pytestmark = pytest.mark.cluster


@pytest.fixture
async def ray_client(make_client, ray_cluster):
    return await make_client("trainer", executor="ray", trainings_per_model=0)


async def _start(client, **params):
    resp = await client.post(URL, params={k: str(v) for k, v in params.items()})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _logs(client, uuid):
    resp = await client.get(URL + uuid + "/logs")
    assert resp.status == 200
    return await resp.text()


async def _wait_for_log(client, uuid, text, timeout=60.0):
    deadline = time.monotonic() + timeout
    while text not in await _logs(client, uuid):
        assert time.monotonic() < deadline, "never logged %r" % text
        await asyncio.sleep(0.1)


async def _record(client, uuid):
    resp = await client.get(URL + uuid)
    assert resp.status == 200
    return await resp.json()


def _parent(pid: int) -> int:
    return int(Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[1])


async def test_a_training_on_ray_runs_to_done_with_its_upload_progress_and_log(ray_client):
    form = aiohttp.FormData({"steps": "3", "outputs": "true"})
    form.add_field("data", b"rows on the remote side", filename="rows.csv")
    resp = await ray_client.post(URL, data=form)
    assert resp.status == 200, await resp.text()
    job = await poll_job(ray_client, URL, (await resp.json())["uuid"], timeout=90)
    assert job["status"] == "done", job
    # the upload reached the Ray worker as a file, and the module was warmed there
    assert job["result"]["output"]["data"] == "rows on the remote side"
    assert job["result"]["output"]["warmed"] is True
    assert "deepaas-ray-train-" in job["result"]["output"]["data_path"]
    assert [m["step"] for m in job["metrics"]] == [1, 2, 3]
    assert job["progress"]["fraction"] == 1.0
    assert "training starts" in await _logs(ray_client, job["uuid"])
    # what it wrote to its output dir on the node came home, listed and served
    assert job["files"] == LISTED
    resp = await ray_client.get(URL + job["uuid"] + "/files/model.bin")
    assert resp.status == 200 and await resp.read() == WEIGHTS


async def test_a_failing_training_on_ray_ends_in_error_with_the_reason_and_traceback(
        ray_client):
    job = await _start(ray_client, fail="value")
    job = await poll_job(ray_client, URL, job["uuid"], timeout=90)
    assert job["status"] == "error" and job["message"] == "training exploded"
    assert "ValueError: training exploded" in await _logs(ray_client, job["uuid"])


async def test_cancel_stops_the_remote_work_and_everything_it_started(ray_client, tmp_path):
    pidfile = tmp_path / "pids"
    job = await _start(ray_client, gate=tmp_path / "never", pidfile=pidfile, stubborn="true")
    await _wait_for_log(ray_client, job["uuid"], "waiting at the gate")
    trainer, grandchild = map(int, pidfile.read_text().split())
    resp = await ray_client.delete(URL + job["uuid"])
    assert resp.status == 200
    record = await resp.json()
    assert record["status"] == "cancelled"
    # a training that ignores SIGTERM and the process it started are gone all the same
    deadline = time.monotonic() + 20
    while alive(trainer) or alive(grandchild):
        assert time.monotonic() < deadline, "the remote training survived its cancel"
        await asyncio.sleep(0.1)
    assert (await _record(ray_client, job["uuid"]))["status"] == "cancelled"


async def test_a_ray_worker_killed_mid_training_ends_the_job_in_error(ray_client, tmp_path):
    pidfile = tmp_path / "pids"
    job = await _start(ray_client, gate=tmp_path / "never", pidfile=pidfile)
    await _wait_for_log(ray_client, job["uuid"], "waiting at the gate")
    trainer = int(pidfile.read_text().split()[0])
    actor = _parent(trainer)  # the Ray worker process that runs the training's actor
    os.kill(actor, signal.SIGKILL)
    job = await poll_job(ray_client, URL, job["uuid"], timeout=60)
    assert job["status"] == "error"
    assert job["message"].startswith("the Ray worker running this training died"), job
    deadline = time.monotonic() + 20
    while alive(trainer):  # the training died with its worker
        assert time.monotonic() < deadline, "the training outlived its Ray worker"
        await asyncio.sleep(0.1)


async def test_ray_runs_a_training_when_the_resources_its_metadata_declares_are_free(
        make_client, ray_cluster, tmp_path):
    client = await make_client("heavy", executor="ray", trainings_per_model=0)
    url, gate = "/v2/models/heavy/train/", tmp_path / "gate"
    uuids = []
    for _ in range(2):
        resp = await client.post(url, params={"gate": str(gate)})
        assert resp.status == 200
        uuids.append((await resp.json())["uuid"])

    async def at_gate() -> list[str]:
        texts = [await (await client.get(url + u + "/logs")).text() for u in uuids]
        return [u for u, text in zip(uuids, texts, strict=True) if "waiting at the gate" in text]

    deadline = time.monotonic() + 60
    while not await at_gate():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert len(await at_gate()) == 1  # each asks for both CPUs: the other one waits
    gate.touch()
    runs = []
    for uuid in uuids:
        record = await poll_job(client, url, uuid, timeout=60)
        assert record["status"] == "done"
        runs.append(record["result"]["output"])
    first, second = sorted(runs, key=lambda run: run["began"])
    assert second["began"] >= first["ended"]  # never both at once, not merely not yet


async def test_on_ray_nothing_a_training_started_outlives_its_end_or_its_cancel(
        make_client, ray_cluster, tmp_path):
    # The detached model leaves a process that called setsid() and ignores SIGTERM: the
    # actor's node side stops it when the training is done, and when it is cancelled.
    client = await make_client("detached", executor="ray", trainings_per_model=0,
                               cancel_grace=0.5)
    url = "/v2/models/detached/train/"
    leftovers = {}
    for name, sleep in (("done", 0), ("cancelled", 60)):
        resp = await client.post(url, params={"pidfile": str(tmp_path / name), "sleep": sleep})
        assert resp.status == 200, await resp.text()
        leftovers[name] = (await resp.json())["uuid"]
    for name in leftovers:
        deadline = time.monotonic() + 90
        while not (tmp_path / name).exists():
            assert time.monotonic() < deadline, "the training on Ray never started its process"
            await asyncio.sleep(0.1)
    cancelled = await (await client.delete(url + leftovers["cancelled"])).json()
    assert cancelled["status"] == "cancelled"
    done = await poll_job(client, url, leftovers["done"], timeout=60)
    assert done["status"] == "done"
    for name in leftovers:
        pid = int((tmp_path / name).read_text())
        deadline = time.monotonic() + 5
        while alive(pid):
            assert time.monotonic() < deadline, "a process of the %s training survived" % name
            await asyncio.sleep(0.05)

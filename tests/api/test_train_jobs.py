"""Trainings a scientist can rely on: logs, progress, queueing, listing, restarts."""

from __future__ import annotations

import asyncio

from deepaas.api.keys import JOBS
from deepaas.jobs.records import JobStatus
from deepaas.model.loading import Registry
from tests.api.test_train import URL, _poll
from tests.conftest import wrapper
from tests.helpers import alive, wait_file


async def _json(resp):
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_logs_hold_everything_the_training_printed(make_client):
    client = await make_client("trainer")
    job = await _json(await client.post(URL, params={"lines": "2000", "fail": "value"}))
    await _poll(client, job["uuid"])
    resp = await client.get(URL + job["uuid"] + "/logs")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
    text = await resp.text()
    lines = [line for line in text.splitlines() if line.startswith("line ")]
    assert lines == ["line %d of the training log" % i for i in range(2000)]
    # the module's traceback went to the log too (stderr)
    assert "training starts" in text and "ValueError: training exploded" in text


async def test_follow_streams_lines_while_the_training_runs(make_client, tmp_path):
    client = await make_client("trainer")
    gate = tmp_path / "gate"
    job = await _json(await client.post(URL, params={"gate": str(gate)}))
    resp = await client.get(URL + job["uuid"] + "/logs", params={"follow": "true"})
    assert resp.status == 200
    seen = b""
    while b"waiting at the gate" not in seen:
        seen += await asyncio.wait_for(resp.content.readany(), 20)
    # the stream is open and the job still running when the first lines arrive
    assert (await _json(await client.get(URL + job["uuid"])))["status"] == "running"
    gate.touch()
    rest = await asyncio.wait_for(resp.content.read(), 20)  # ends when the training ends
    assert b"through the gate" in seen + rest
    assert (await _json(await client.get(URL + job["uuid"])))["status"] == "done"


async def test_progress_and_metrics_in_the_record(make_client):
    client = await make_client("trainer")
    job = await _json(await client.post(URL, params={"steps": "5"}))
    done = await _poll(client, job["uuid"])
    assert done["progress"]["step"] == 5 and done["progress"]["total"] == 5
    assert done["progress"]["fraction"] == 1.0 and done["progress"]["loss"] == 0.2
    assert [m["step"] for m in done["metrics"]] == [1, 2, 3, 4, 5]
    assert [m["accuracy"] for m in done["metrics"]] == [0.1, 0.2, 0.3, 0.4, 0.5]
    listed = await _json(await client.get(URL))
    assert listed[0]["progress"]["step"] == 5 and "metrics" not in listed[0]


async def test_queue_per_model_with_positions_and_cancel_while_waiting(make_client, tmp_path):
    client = await make_client("trainer", trainings_per_model=1)
    gate = tmp_path / "gate"
    first = await _json(await client.post(URL, params={"gate": str(gate)}))
    second = await _json(await client.post(URL))
    third = await _json(await client.post(URL))
    assert first.get("queued") is None
    # 2.x clients poll while "running": a waiting job says running, queued, and its place
    assert (second["status"], second["queued"], second["position"]) == ("running", True, 1)
    assert third["position"] == 2
    cancelled = await _json(await client.delete(URL + second["uuid"]))
    assert cancelled["status"] == "cancelled"
    assert (await _json(await client.get(URL + third["uuid"])))["position"] == 1
    gate.touch()
    assert (await _poll(client, first["uuid"]))["status"] == "done"
    assert (await _poll(client, third["uuid"]))["status"] == "done"
    assert (await _json(await client.get(URL + second["uuid"])))["status"] == "cancelled"


async def test_server_wide_limit(make_client, tmp_path):
    client = await make_client("trainer", "basic", max_trainings=1, trainings_per_model=5)
    gate = tmp_path / "gate"
    first = await _json(await client.post(URL, params={"gate": str(gate)}))
    second = await _json(await client.post(URL))
    assert first.get("queued") is None and second["queued"] is True
    gate.touch()
    assert (await _poll(client, second["uuid"]))["status"] == "done"


async def test_listing_filters_and_pages(make_client):
    client = await make_client("trainer")
    ids = [(await _json(await client.post(URL, params={"fail": f})))["uuid"]
           for f in ("no", "value", "no", "value", "no")]
    for uuid in ids:
        await _poll(client, uuid)
    everything = await _json(await client.get(URL))
    assert [j["uuid"] for j in everything] == ids
    done = await _json(await client.get(URL, params={"status": "done"}))
    assert [j["uuid"] for j in done] == ids[0::2]
    both = await _json(await client.get(URL, params=[("status", "done,error")]))
    assert len(both) == 5
    page = await _json(await client.get(URL, params={"limit": "2", "offset": "1"}))
    assert [j["uuid"] for j in page] == ids[1:3]
    resp = await client.get(URL, params={"status": "sleeping", "limit": "-1"})
    assert resp.status == 422
    assert await resp.json() == {
        "status": ["Must be one of: queued, running, done, error, cancelled."],
        "limit": ["Must be a whole number from 0 to 999999999."]}
    resp = await client.get(URL, params={"limit": "24310036582676545536"})
    assert resp.status == 422


async def test_records_and_logs_survive_a_restart(serve, tmp_path_factory, tmp_path):
    data_dir = str(tmp_path_factory.mktemp("kept"))
    registry = Registry.of(wrapper("trainer"))
    client = await serve(registry, data_dir=data_dir)
    done = await _json(await client.post(URL, params={"steps": "3"}))
    await _poll(client, done["uuid"])
    pidfile = tmp_path / "pids"
    running = await _json(await client.post(URL, params={"sleep": "60", "pidfile": str(pidfile)}))
    await wait_file(pidfile)
    pids = [int(p) for p in pidfile.read_text().split()]
    await client.close()  # a clean stop: the running training is stopped and recorded
    assert not any(alive(p) for p in pids)

    client = await serve(registry, data_dir=data_dir)
    jobs = {j["uuid"]: j for j in await _json(await client.get(URL))}
    assert jobs[done["uuid"]]["status"] == "done"
    assert jobs[done["uuid"]]["result"]["output"]["epochs"] == 1
    assert jobs[running["uuid"]]["status"] == "error"
    assert "server stopped" in jobs[running["uuid"]]["message"]
    full = await _json(await client.get(URL + done["uuid"]))
    assert [m["step"] for m in full["metrics"]] == [1, 2, 3]
    log = await (await client.get(URL + running["uuid"] + "/logs")).text()
    assert "training starts" in log


async def test_unknown_job_logs_are_404(make_client):
    client = await make_client("trainer")
    resp = await client.get(URL + "0" * 32 + "/logs")
    assert resp.status == 404


def test_status_wire_values():
    assert JobStatus.QUEUED.v2 == "running" and JobStatus.DONE.v2 == "done"
    assert not JobStatus.QUEUED.is_terminal() and JobStatus.CANCELLED.is_terminal()


async def test_a_follower_that_leaves_does_not_disturb_the_server(make_client, tmp_path):
    client = await make_client("trainer")
    gate = tmp_path / "gate"
    job = await _json(await client.post(URL, params={"gate": str(gate)}))
    resp = await client.get(URL + job["uuid"] + "/logs", params={"follow": "1"})
    await asyncio.wait_for(resp.content.readany(), 20)
    resp.close()  # hang up mid-stream: what the training writes next has no reader
    gate.touch()
    assert (await _poll(client, job["uuid"]))["status"] == "done"
    assert (await client.get("/v2/")).status == 200


async def test_the_log_of_a_training_whose_log_file_is_gone_reads_empty(make_client):
    client = await make_client("trainer")
    job = await _json(await client.post(URL, params={"steps": "1"}))
    await _poll(client, job["uuid"])
    client.server.app[JOBS].layout.log(job["uuid"]).unlink()
    for params in ({}, {"follow": "true"}):
        resp = await client.get(URL + job["uuid"] + "/logs", params=params)
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        assert await resp.text() == ""

"""The training lifecycle over HTTP: start, poll to a terminal state, fail, cancel."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp

from tests.helpers import alive, poll_job, wait_file

URL = "/v2/models/trainer/train/"


async def _poll(client, uuid, url=URL):
    return await poll_job(client, url, uuid)


async def test_training_runs_to_done_with_result(make_client):
    client = await make_client("trainer")
    resp = await client.post(URL, params={"epochs": "3"})
    assert resp.status == 200
    started = await resp.json()
    assert list(started) == ["date", "args", "uuid", "status"]
    assert started["status"] == "running"
    assert re.fullmatch(r"[0-9a-f]{32}", started["uuid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", started["date"])
    assert started["args"] == {"epochs": 3, "sleep": 0.0, "fail": "no", "pidfile": "",
                               "steps": 0, "lines": 0, "gate": "", "stubborn": False,
                               "outputs": False}
    job = await _poll(client, started["uuid"])
    assert job["status"] == "done"
    result = job["result"]
    # train ran in a warmed process of its own; a set came back as a list
    assert result["output"] == {"epochs": 3, "warmed": True, "odd": [1, 2]}
    assert re.fullmatch(r"\d+:\d\d:\d\d\.\d+", result["duration"])
    assert result["finish_date"] >= job["date"]
    listing = await (await client.get(URL)).json()
    assert [j["uuid"] for j in listing] == [started["uuid"]]


async def test_training_error_keeps_message(make_client):
    client = await make_client("trainer")
    ids = []
    for fail in ("value", "http", "exit"):
        resp = await client.post(URL, params={"fail": fail})
        ids.append((await resp.json())["uuid"])
    jobs = [await _poll(client, uuid) for uuid in ids]
    assert [j["status"] for j in jobs] == ["error"] * 3
    assert jobs[0]["message"] == "training exploded"
    assert jobs[1]["message"] == "module conflict"
    assert "exit code 3" in jobs[2]["message"]


async def test_cancel_kills_the_process_group(make_client, tmp_path):
    client = await make_client("trainer")
    pidfile = tmp_path / "pids"
    resp = await client.post(URL, params={"sleep": "60", "pidfile": str(pidfile)})
    uuid = (await resp.json())["uuid"]
    await wait_file(pidfile)
    pids = [int(p) for p in pidfile.read_text().split()]
    assert all(alive(p) for p in pids)
    began = time.monotonic()
    resp = await client.delete(URL + uuid)
    assert resp.status == 200
    job = await resp.json()
    assert job["status"] == "cancelled" and job["uuid"] == uuid
    deadline = began + 5
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not any(alive(p) for p in pids), "a process of the training survived its cancel"
    assert (await (await client.get(URL + uuid)).json())["status"] == "cancelled"


async def test_cancel_of_finished_training_keeps_its_status(make_client):
    client = await make_client("trainer")
    uuid = (await (await client.post(URL)).json())["uuid"]
    await _poll(client, uuid)
    resp = await client.delete(URL + uuid)
    assert resp.status == 200 and (await resp.json())["status"] == "done"


async def test_unknown_training_is_404(make_client):
    client = await make_client("trainer")
    for method in ("GET", "DELETE"):
        resp = await client.request(method, URL + "0" * 32)
        assert resp.status == 404
        assert await resp.text() == "404: Not Found"


async def test_uploaded_file_lives_until_training_ends(make_client, tmp_path):
    client = await make_client("trainer", tmp_dir=str(tmp_path))
    form = aiohttp.FormData()
    form.add_field("data", b"training data", filename="d.csv", content_type="text/csv")
    resp = await client.post(URL, data=form)
    started = await resp.json()
    assert started["args"]["data"] == ["data", "text/csv", "d.csv"]
    job = await _poll(client, started["uuid"])
    assert job["result"]["output"]["data"] == "training data"
    assert list(tmp_path.iterdir()) == []


async def test_invalid_train_args_are_422(make_client):
    client = await make_client("trainer")
    resp = await client.post(URL, params={"epochs": "x"})
    assert resp.status == 422
    assert await resp.json() == {"epochs": ["Not a valid integer."]}


async def test_module_without_train_answers_501(make_client):
    client = await make_client("bare", "notimpl")
    resp = await client.post("/v2/models/bare/train/")
    assert resp.status == 501
    assert await resp.text() == "501: Not implemented by underlying model (loaded 'bare')"
    resp = await client.post("/v2/models/notimpl/train/")
    job = await resp.json()
    assert resp.status == 200
    job = await _poll(client, job["uuid"], url="/v2/models/notimpl/train/")
    assert job["status"] == "error" and "does not implement train" in job["message"]


async def test_disabled_train_endpoint_answers_402(make_client):
    client = await make_client("trainer", train_endpoint=False)
    for method, path in (("POST", URL), ("GET", URL), ("GET", URL + "x"), ("DELETE", URL + "x")):
        resp = await client.request(method, path)
        assert resp.status == 402, (method, path)


async def test_server_shutdown_stops_running_trainings(make_client, tmp_path):
    client = await make_client("trainer")
    pidfile = tmp_path / "pids"
    await client.post(URL, params={"sleep": "60", "pidfile": str(pidfile)})
    await wait_file(pidfile)
    pids = [int(p) for p in pidfile.read_text().split()]
    await client.close()
    deadline = time.monotonic() + 5
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not any(alive(p) for p in pids)


async def test_cancel_escalates_to_sigkill_after_the_grace_period(make_client, tmp_path):
    client = await make_client("trainer", cancel_grace=0.5)
    pidfile = tmp_path / "pids"
    resp = await client.post(URL, params={"sleep": "60", "pidfile": str(pidfile),
                                          "stubborn": "true"})
    uuid = (await resp.json())["uuid"]
    await wait_file(pidfile)
    leader = int(pidfile.read_text().split()[0])
    began = time.monotonic()
    job = await (await client.delete(URL + uuid)).json()
    took = time.monotonic() - began
    assert job["status"] == "cancelled" and not alive(leader)
    assert 0.5 <= took < 5, took  # SIGTERM was ignored; SIGKILL came after the grace

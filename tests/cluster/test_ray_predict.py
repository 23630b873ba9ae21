"""Predictions on Ray actors (--predict-executor ray): warmed once, files shipped, batching,
timeouts and crashes handled as with local worker processes."""

from __future__ import annotations

import asyncio
import json
import os
import time

import aiohttp
import pytest

from tests.helpers import wait_file
from tests.workers.test_dispatch import BATCHER as BATCH_URL

pytestmark = pytest.mark.cluster
URL = "/v2/models/remote/predict/"


async def _predict(client, url=URL, **params):
    resp = await client.post(url, params=params)
    return resp.status, await resp.json()


async def test_predictions_run_in_warmed_ray_actors_and_files_travel(make_client, ray_cluster):
    client = await make_client("remote", predict_executor="ray", workers=2)
    pids = set()
    for _ in range(6):
        status, body = await _predict(client)
        assert status == 200, body
        pids.add(body["predictions"]["pid"])
        assert body["predictions"]["warm"] == 1  # warm() ran once, in that actor
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    form = aiohttp.FormData()
    form.add_field("data", b"pixels", filename="cat.png", content_type="image/png")
    resp = await client.post(URL, data=form)
    body = await resp.json()
    assert resp.status == 200, body
    assert body["predictions"]["data"] == "pixels"
    assert body["predictions"]["name"] == "cat.png"
    status, body = await _predict(client, mode="raise")
    assert status == 500 and "asked to fail" in body["message"]


async def test_a_dead_actor_costs_one_request_and_is_replaced(make_client, ray_cluster):
    client = await make_client("remote", predict_executor="ray")
    _, before = await _predict(client)
    status, body = await _predict(client, mode="exit")
    assert status == 500 and "a new one was started" in body["message"], body
    status, after = await _predict(client)
    assert status == 200 and after["predictions"]["warm"] == 1
    assert after["predictions"]["pid"] != before["predictions"]["pid"]


async def test_a_timeout_answers_504_and_replaces_the_stuck_actor(make_client, ray_cluster):
    client = await make_client("remote", predict_executor="ray", predict_timeout=1)
    _, first = await _predict(client)
    began = time.monotonic()
    status, body = await _predict(client, sleep="30")
    assert status == 504 and time.monotonic() - began < 6
    deadline = time.monotonic() + 60
    while True:  # a new actor is warming: a request waits for it, then is served there
        status, after = await _predict(client)
        if status == 200:
            break
        assert time.monotonic() < deadline, after
    assert after["predictions"]["pid"] != first["predictions"]["pid"]


async def test_batching_and_backpressure_hold_on_ray(make_client, ray_cluster):
    client = await make_client("batcher", predict_executor="ray", max_queue=64)
    results = await asyncio.gather(*(_predict(client, BATCH_URL, x=str(i)) for i in range(16)))
    assert all(status == 200 for status, _ in results)
    assert [body["predictions"]["double"] for _, body in results] == [2 * i for i in range(16)]
    assert max(body["predictions"]["batch"] for _, body in results) > 1  # gathered
    status, body = await _predict(client, BATCH_URL, x="-1")
    assert status == 500 and "negative x" in body["message"]
    small = await make_client("remote", predict_executor="ray", max_queue=1)
    answers = await asyncio.gather(*(_predict(small, sleep="1") for _ in range(4)))
    assert sorted(status for status, _ in answers)[-1] == 503  # the line is bounded


async def test_a_streamed_answer_comes_item_by_item_from_the_actor(make_client, ray_cluster,
                                                                   tmp_path):
    client = await make_client("streamer", predict_executor="ray")
    url = "/v2/models/streamer/predict/"
    gate, finished = tmp_path / "gate", tmp_path / "finished"
    resp = await client.post(url, params={"n": "3", "gate": str(gate),
                                          "finished": str(finished)})
    assert resp.headers["Content-Type"] == "application/x-ndjson"
    first = json.loads(await resp.content.readline())
    assert first["i"] == 0 and first["pid"] != os.getpid()
    assert not finished.exists()
    gate.touch()
    assert [json.loads(line)["i"] for line in (await resp.read()).splitlines()] == [1, 2]
    # a client that leaves mid-stream: the actor closes the generator and serves again
    left = tmp_path / "left"
    resp = await client.post(url, params={"n": "100000", "pause": "0.01",
                                          "finished": str(left)})
    await resp.content.readline()
    resp.close()
    await wait_file(left)
    again = await client.post(url, params={"n": "1"})
    assert json.loads(await again.read())["pid"] == first["pid"]

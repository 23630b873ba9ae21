"""--isolate: predictions in warmed worker processes that crash alone and are replaced."""

from __future__ import annotations

import asyncio
import os
import time

URL = "/v2/models/crashy/predict/"


async def _predict(client, **params):
    resp = await client.post(URL, params=params)
    return resp.status, await resp.json()


async def test_predictions_run_in_warmed_worker_processes(make_client):
    client = await make_client("crashy", isolate=True, workers=2)
    pids = set()
    for _ in range(6):
        status, body = await _predict(client)
        assert status == 200
        pids.add(body["predictions"]["pid"])
        assert body["predictions"]["warm"] == 1  # warm() ran once, in that worker
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


async def test_a_crashing_worker_costs_one_request_and_is_replaced(make_client):
    client = await make_client("crashy", isolate=True)
    _, before = await _predict(client)
    for mode, how in (("exit", "exit code 3"), ("segfault", "SIGSEGV"),
                      ("oom-killed", "SIGKILL")):
        status, body = await _predict(client, mode=mode)
        assert status == 500
        assert "died (%s" % how in body["message"] or how in body["message"], body
        assert "a new one was started" in body["message"]
        status, after = await _predict(client)  # the server goes on, on a fresh warm worker
        assert status == 200 and after["predictions"]["warm"] == 1
        assert after["predictions"]["pid"] != before["predictions"]["pid"]
        before = after


async def test_timeout_replaces_the_stuck_worker(make_client):
    client = await make_client("crashy", isolate=True, predict_timeout=0.5)
    _, first = await _predict(client)
    began = time.monotonic()
    status, body = await _predict(client, sleep="30")
    assert status == 504 and "longer than 0.5 s" in body["message"]
    assert time.monotonic() - began < 5
    status, after = await _predict(client)
    assert status == 200 and after["predictions"]["pid"] != first["predictions"]["pid"]


async def test_warm_failure_in_a_worker_is_reported_not_served(serve):
    from deepaas.model.loading import Registry, resolve
    from deepaas.model.wrapper import ModelWrapper

    model = ModelWrapper("coldfail", resolve("tests.models.coldfail"), "tests.models.coldfail")
    client = await serve(Registry.of(model), isolate=True)
    resp = await client.post("/v2/models/coldfail/predict/")  # waits for the warm-up, fails
    assert resp.status == 500 and "weights not found" in (await resp.json())["message"]
    resp = await client.get("/v2/health/ready")
    assert resp.status == 503
    assert "coldfail failed to start" in (await resp.json())["message"]


async def test_workers_share_the_load(make_client):
    client = await make_client("crashy", isolate=True, workers=2)
    began = time.monotonic()
    results = await asyncio.gather(*(_predict(client, sleep="0.5") for _ in range(4)))
    assert all(status == 200 for status, _ in results)
    assert time.monotonic() - began < 1.9  # two at a time, not one

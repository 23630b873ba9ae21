"""The prediction line: backpressure, timeouts, dropped waiters, batching, async modules."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from tests.helpers import wait_file
from tests.models import batcher

CRASHY = "/v2/models/crashy/predict/"
BATCHER = "/v2/models/batcher/predict/"


async def test_a_full_queue_answers_503_with_retry_after(make_client):
    client = await make_client("crashy", workers=1, max_queue=2)

    async def one():
        resp = await client.post(CRASHY, params={"sleep": "0.4"})
        return resp.status, resp.headers.get("Retry-After"), await resp.json()

    results = await asyncio.gather(*(one() for _ in range(6)))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200, 200, 200, 503, 503, 503]  # one running, two waiting
    refused = [r for r in results if r[0] == 503]
    assert all(retry == "1" for _, retry, _ in refused)
    assert "predictions waiting" in refused[0][2]["message"]


async def test_timeout_in_threads_answers_504_and_the_server_goes_on(make_client):
    client = await make_client("crashy", predict_timeout=0.3)
    began = time.monotonic()
    resp = await client.post(CRASHY, params={"sleep": "1.5"})
    assert resp.status == 504 and time.monotonic() - began < 1.2
    assert "took longer than 0.3 s" in (await resp.json())["message"]
    resp = await client.post(CRASHY)  # waits for the stuck thread, then runs
    assert resp.status == 200


async def _queued(client, depth: int) -> None:
    """Wait until ``depth`` crashy predictions wait in line (the queue-depth metric)."""
    deadline = time.monotonic() + 20
    line = 'deepaas_queue_depth{model="crashy"} %d.0' % depth
    while line not in await (await client.get("/metrics")).text():
        assert time.monotonic() < deadline, "never %d waiting" % depth
        await asyncio.sleep(0.02)


async def _hold_the_worker(client, gate):
    """A prediction that holds the only worker until ``gate`` exists; answers its task."""
    busy = asyncio.create_task(client.post(CRASHY, params={"mode": "gate", "path": str(gate)}))
    await wait_file(Path(str(gate) + ".running"), allow_empty=True)
    return busy


async def test_a_client_that_leaves_drops_its_waiting_prediction(make_client, tmp_path):
    client = await make_client("crashy", workers=1)
    gate, mark = tmp_path / "gate", tmp_path / "ran"
    busy = await _hold_the_worker(client, gate)
    waiting = asyncio.create_task(client.post(CRASHY, params={"mode": "touch",
                                                              "path": str(mark)}))
    await _queued(client, 1)
    waiting.cancel()  # the client hangs up while its prediction waits
    await asyncio.gather(waiting, return_exceptions=True)
    gate.touch()
    assert (await busy).status == 200
    resp = await client.post(CRASHY)  # one worker, in order: the dropped one would run first
    assert resp.status == 200
    assert not mark.exists(), "the prediction of a client that left was run"


async def test_concurrent_requests_are_batched_each_with_its_own_answer(make_client):
    batcher.CALLS.clear()
    client = await make_client("batcher", workers=1)

    async def one(x, accept="application/json"):
        resp = await client.post(BATCHER, params={"x": str(x), "accept": accept})
        body = await (resp.json() if accept == "application/json" and resp.status == 200
                      else resp.text())
        return resp.status, body

    results = await asyncio.gather(*(one(x) for x in range(16)), one(-5), one(7, "text/plain"))
    for x, (status, body) in enumerate(results[:16]):
        assert status == 200 and body["predictions"]["double"] == 2 * x
    assert results[16][0] == 500 and "negative x: -5" in results[16][1]
    assert results[17] == (200, "x=7")
    assert max(batcher.CALLS) > 1 and max(batcher.CALLS) <= 8  # batched, within the limit
    assert sum(batcher.CALLS) == 18 and len(batcher.CALLS) < 18


async def test_batches_in_worker_processes_too(make_client):
    client = await make_client("batcher", isolate=True)
    responses = await asyncio.gather(*(client.post(BATCHER, params={"x": str(x)})
                                       for x in range(10)))
    bodies = [await r.json() for r in responses]
    assert [b["predictions"]["double"] for b in bodies] == [2 * x for x in range(10)]
    assert max(b["predictions"]["batch"] for b in bodies) > 1


async def test_coroutine_predict_runs_concurrently(make_client):
    client = await make_client("asyncmod", workers=1)
    began = time.monotonic()
    responses = await asyncio.gather(*(client.post("/v2/models/asyncmod/predict/",
                                                   params={"delay": "0.3"}) for _ in range(10)))
    assert all(r.status == 200 for r in responses)
    assert time.monotonic() - began < 1.5  # not ten times 0.3 s


async def test_uploads_of_a_dropped_prediction_are_removed(make_client, tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    client = await make_client("crashy", tmp_dir=str(uploads), workers=1, max_queue=1)
    busy = await _hold_the_worker(client, tmp_path / "gate")

    def post():
        form = aiohttp.FormData()
        form.add_field("data", b"x" * 100, filename="f.bin")
        return asyncio.create_task(client.post(CRASHY, data=form))

    waiting = post()
    await _queued(client, 1)
    refused = await post()  # the line is full: dropped at once, its upload with it
    assert refused.status == 503
    (tmp_path / "gate").touch()
    assert (await busy).status == 200 and (await waiting).status == 200
    assert list(uploads.iterdir()) == []

"""Cancelling an asynchronous prediction stops its work where it runs: a worker process
(--isolate) is killed and replaced, so the model serves others at once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.helpers import wait_file

ASYNC = {"Prefer": "respond-async"}


async def _pid(client, name: str) -> int:
    resp = await client.post("/v2/models/%s/predict/" % name, params={"n": "1"})
    assert resp.status == 200
    body = (await resp.read()).splitlines()[0]
    found = json.loads(body)
    return found["predictions"]["pid"] if "predictions" in found else found["pid"]


@pytest.mark.parametrize("name, params, running", [
    ("crashy", {"mode": "gate"}, "gate.running"),  # a plain answer, held at a gate
    ("streamer", {"n": "3", "progress": "progress"}, "progress"),  # a stream, 2 items made
])
async def test_cancelling_kills_the_worker_that_runs_it(make_client, tmp_path, name, params,
                                                       running):
    client = await make_client(name, isolate=True)
    before = await _pid(client, name)
    gate = tmp_path / "gate"  # never opened: the prediction would hold its worker 30 s
    params = {key: str(tmp_path / value) if key == "progress" else value
              for key, value in params.items()}
    params["path" if name == "crashy" else "gate"] = str(gate)
    resp = await client.post("/v2/models/%s/predict/" % name, params=params, headers=ASYNC)
    assert resp.status == 202
    uuid = (await resp.json())["uuid"]
    await wait_file(tmp_path / running, allow_empty=True)  # it runs in the worker now
    began = time.monotonic()
    resp = await client.delete("/v2/models/%s/predictions/%s" % (name, uuid))
    assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    assert await _pid(client, name) != before  # a new worker, while the gate is still shut
    assert time.monotonic() - began < 15
    assert not Path(gate).exists()

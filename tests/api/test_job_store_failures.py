"""A job store that cannot be written while trainings run: they end truly, the API answers
their true state, and readiness says why until the store works again."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

from deepaas.api import app as app_module
from deepaas.jobs.sqlite import SQLiteStore
from tests.api.test_train import URL
from tests.helpers import poll_job
from tests.jobs.test_indexed import Flaky, _until


async def _ready(client) -> tuple[int, dict]:
    resp = await client.get("/v2/health/ready")
    return resp.status, await resp.json()


async def test_a_training_ends_truly_while_its_store_writes_fail(make_client, monkeypatch,
                                                                 tmp_path, caplog):
    caplog.set_level(logging.INFO, "deepaas.jobs.indexed")
    made: list[Flaky] = []
    monkeypatch.setattr(app_module, "job_index", lambda settings: made.append(
        Flaky(Path(settings.data_dir) / "jobs.sqlite3")) or made[0])
    client = await make_client("trainer")
    index = made[0]
    gate = tmp_path / "gate"
    resp = await client.post(URL, params={"gate": str(gate), "steps": "3"})
    uuid = (await resp.json())["uuid"]
    index.failure = sqlite3.OperationalError("database or disk is full")
    gate.touch()

    done = await poll_job(client, URL, uuid)  # every GET answered 200 meanwhile
    assert done["status"] == "done" and done["result"]["output"]["epochs"] == 1
    assert [m["step"] for m in done["metrics"]] == [1, 2, 3]
    assert [j["status"] for j in await (await client.get(URL)).json()] == ["done"]
    status, body = await _ready(client)
    assert (status, body) == (503, {"ready": False, "message": "the job store cannot be "
                                    "written: OperationalError: database or disk is full"})
    await _until(lambda: index.failed >= 3)  # retries keep failing, said once

    index.failure = None
    deadline = time.monotonic() + 60  # retries back off to 30 s at most
    while (await _ready(client))[0] != 200:
        assert time.monotonic() < deadline, "the store did not recover"
        await asyncio.sleep(0.05)
    stored = await SQLiteStore.get(index, uuid)
    assert stored is not None and stored.status.value == "done"
    assert [m["step"] for m in stored.metrics] == [1, 2, 3]
    said = [r.getMessage() for r in caplog.records]
    assert sum("the job store cannot be written" in m for m in said) == 1
    assert sum("the job store works again" in m for m in said) == 1

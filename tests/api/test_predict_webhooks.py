"""Asynchronous predictions with a Webhook-URL: the signed record arrives when they end."""

from __future__ import annotations

import datetime
import json
from typing import Any

import aiohttp

from deepaas.jobs.prediction_records import STOPPED, PredictionRecord
from deepaas.jobs.sqlite import SQLiteStore
from deepaas.jobs.sqlite_predictions import SQLitePredictions
from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper
from deepaas.webhooks.outbox import Outbox
from tests.webhooks.receiver import on_loopback, start_receiver, verify

PREDICT = "/v2/models/basic/predict/"
LIST = "/v2/models/basic/predictions/"
SECRET = "a plain-text secret"
ON = on_loopback(SECRET)


async def test_the_signed_record_arrives_when_the_prediction_ends(make_client: Any,
                                                                  aiohttp_server: Any) -> None:
    receiver = await start_receiver(aiohttp_server)
    client = await make_client("basic", **ON)
    resp = await client.post(PREDICT, params={"n": "1", "ret": "dict"},
                             headers={"Prefer": "respond-async", "Webhook-URL": receiver.url})
    assert resp.status == 202
    uuid = (await resp.json())["uuid"]
    got = await receiver.next()
    assert verify(SECRET, got) and got.headers["webhook-id"] == "msg_" + uuid
    delivered = json.loads(got.body)
    assert delivered["status"] == "done"
    assert delivered == await (await client.get(LIST + uuid)).json()  # the record, as GET
    failed = await client.post(PREDICT, params={"n": "1", "ret": "value-error"},
                               headers={"Prefer": "respond-async", "Webhook-URL": receiver.url})
    got = json.loads((await receiver.next()).body)
    assert (got["uuid"], got["status"]) == ((await failed.json())["uuid"], "error")


async def test_a_refused_url_is_a_422_and_nothing_is_queued(make_client: Any,
                                                            tmp_path: Any) -> None:
    client = await make_client("basic", webhook_allow=("http://127.0.0.1:*",))
    form = aiohttp.FormData()
    form.add_field("data", b"some bytes", filename="data.bin")
    resp = await client.post(PREDICT, data=form, headers={
        "Prefer": "respond-async", "Webhook-URL": "http://127.0.0.1:8080/hook"})
    assert resp.status == 422
    assert "loopback" in (await resp.json())["message"]
    assert await (await client.get(LIST)).json() == []
    assert not [p for p in tmp_path.iterdir() if p.is_file()]


async def test_a_6to4_address_of_loopback_is_refused_as_loopback(make_client: Any) -> None:
    # 2002:7f00:1:: carries 127.0.0.1 (6to4): as internal as 127.0.0.1 itself.
    client = await make_client("basic", webhook_allow=("http://*:*",))
    resp = await client.post(PREDICT, params={"n": "1"}, headers={
        "Prefer": "respond-async", "Webhook-URL": "http://[2002:7f00:1::]:8080/hook"})
    assert resp.status == 422
    assert "2002:7f00:1:: is a loopback address" in (await resp.json())["message"]
    assert await (await client.get(LIST)).json() == []


async def test_a_synchronous_prediction_answers_and_ignores_the_header(
        make_client: Any) -> None:
    client = await make_client("basic")  # webhooks off: the header is not even checked
    resp = await client.post(PREDICT, params={"n": "1", "ret": "dict"},
                             headers={"Webhook-URL": "https://hooks.example.org/in"})
    assert resp.status == 200


async def test_predictions_stopped_or_killed_are_delivered_after_the_restart(
        serve: Any, aiohttp_server: Any, tmp_path: Any) -> None:
    receiver = await start_receiver(aiohttp_server)
    data = tmp_path / "data"
    registry = Registry.of(ModelWrapper("gated", resolve("tests.models.gated"),
                                        "tests.models.gated"))
    client = await serve(registry, data_dir=str(data), **ON)
    gate = tmp_path / "gate"
    resp = await client.post("/v2/models/gated/predict/", params={"gate": str(gate)},
                             headers={"Prefer": "respond-async", "Webhook-URL": receiver.url})
    stopped = (await resp.json())["uuid"]
    await client.close()  # the server stops under it: recorded as error, delivery waits
    gate.touch()
    # A server killed outright (kill -9) left a running record whose webhook was armed.
    store = SQLiteStore(data / "jobs.sqlite3")
    await store.open()
    killed = PredictionRecord(uuid="e" * 32, model="gated", args={},
                              date=datetime.datetime.now(), owner="gone")
    await SQLitePredictions(store).put(killed)
    await store.close()
    Outbox(data / "webhooks").arm(killed.uuid, receiver.url)
    assert not receiver.received

    await serve(registry, data_dir=str(data), **ON)
    got = [await receiver.next(), await receiver.next()]
    records = {json.loads(g.body)["uuid"]: json.loads(g.body) for g in got}
    assert set(records) == {stopped, killed.uuid}
    assert all(r["status"] == "error" and r["message"] == STOPPED for r in records.values())
    assert all(verify(SECRET, g) for g in got)

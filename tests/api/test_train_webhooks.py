"""Trainings with a Webhook-URL: the signed record arrives when they end, refusals are 422."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from deepaas.api.keys import WEBHOOKS
from deepaas.model.loading import Registry
from tests.conftest import wrapper
from tests.helpers import poll_job, wait_file
from tests.webhooks.receiver import on_loopback, start_receiver, verify

URL = "/v2/models/trainer/train/"
SECRET = "whsec_c2VjcmV0IGJ5dGVzIGZvciB0aGUgdGVzdHM="
ON = on_loopback(SECRET)


async def test_the_signed_record_arrives_when_the_training_ends(make_client: Any,
                                                                aiohttp_server: Any) -> None:
    receiver = await start_receiver(aiohttp_server, statuses=(500,))  # retried once
    client = await make_client("trainer", **ON)
    resp = await client.post(URL, params={"epochs": "2"}, headers={"Webhook-URL": receiver.url})
    assert resp.status == 200
    uuid = (await resp.json())["uuid"]
    got = await receiver.next()
    assert verify(SECRET, got)
    assert got.headers["webhook-id"] == "msg_" + uuid
    delivered = json.loads(got.body)
    assert delivered["status"] == "done" and delivered["result"]["output"]["epochs"] == 2
    job = await poll_job(client, URL, uuid)
    del job["metrics"]  # the delivery is the record as the list answers it
    assert delivered == job
    assert len(receiver.received) == 2
    assert {r.headers["webhook-id"] for r in receiver.received} == {"msg_" + uuid}


async def test_a_failed_and_a_cancelled_training_are_delivered(make_client: Any,
                                                               aiohttp_server: Any,
                                                               tmp_path: Any) -> None:
    receiver = await start_receiver(aiohttp_server)
    client = await make_client("trainer", **ON)
    hook = {"Webhook-URL": receiver.url}
    failed = (await (await client.post(URL, params={"fail": "value"}, headers=hook)).json())
    assert json.loads((await receiver.next()).body)["message"] == "training exploded"
    gate = tmp_path / "gate"
    running = await (await client.post(URL, params={"gate": str(gate)}, headers=hook)).json()
    await client.delete(URL + running["uuid"])
    got = json.loads((await receiver.next()).body)
    assert (got["uuid"], got["status"]) == (running["uuid"], "cancelled")
    assert failed["uuid"] != running["uuid"]


async def test_a_refused_url_is_a_422_and_no_training(make_client: Any,
                                                      tmp_path: Any) -> None:
    client = await make_client("trainer", webhook_allow=("https://hooks.example.org",))
    form = aiohttp.FormData()
    form.add_field("data", b"1,2,3\n", filename="data.csv")
    cases = {"https://elsewhere.example.org/in": "host elsewhere.example.org is not allowed",
             "http://127.0.0.1:8080/in": "host 127.0.0.1 is not allowed",
             "ftp://hooks.example.org/in": "not an http"}
    for url, reason in cases.items():
        resp = await client.post(URL, data=form, headers={"Webhook-URL": url})
        assert resp.status == 422
        assert reason in (await resp.json())["message"]
    assert await (await client.get(URL)).json() == []
    assert not [p for p in tmp_path.iterdir() if p.is_file()]  # no upload left behind


async def test_private_addresses_need_webhook_private(make_client: Any) -> None:
    client = await make_client("trainer", webhook_allow=("http://127.0.0.1:*",))
    resp = await client.post(URL, headers={"Webhook-URL": "http://127.0.0.1:8080/hook"})
    assert resp.status == 422
    assert "loopback" in (await resp.json())["message"]
    assert await (await client.get(URL)).json() == []


async def test_addresses_that_carry_an_internal_ipv4_one_need_webhook_private(
        make_client: Any) -> None:
    client = await make_client("trainer", webhook_allow=("http://*:*",))
    for host in ("2002:7f00:1::", "64:ff9b::a9fe:a9fe", "::a00:1"):  # 6to4, NAT64, compatible
        resp = await client.post(URL, headers={"Webhook-URL": "http://[%s]:8080/hook" % host})
        assert resp.status == 422
        assert "%s is a " % host in (await resp.json())["message"]
    assert await (await client.get(URL)).json() == []


async def test_without_webhook_allow_a_webhook_url_is_refused(make_client: Any) -> None:
    client = await make_client("trainer")
    resp = await client.post(URL, headers={"Webhook-URL": "https://hooks.example.org/in"})
    assert resp.status == 422
    assert "webhooks are off" in (await resp.json())["message"]
    assert (await client.post(URL)).status == 200  # no header: trainings as ever


async def test_a_failing_hook_never_breaks_the_trainings(make_client: Any,
                                                         monkeypatch: Any) -> None:
    client = await make_client("trainer", **ON)

    async def broken(uuid: str, record: dict[str, Any]) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(client.app[WEBHOOKS], "ended", broken)
    for epochs in ("1", "2"):
        uuid = (await (await client.post(URL, params={"epochs": epochs})).json())["uuid"]
        assert (await poll_job(client, URL, uuid))["status"] == "done"


async def test_a_training_stopped_by_a_shutdown_is_delivered_after_the_restart(
        serve: Any, aiohttp_server: Any, tmp_path_factory: Any, tmp_path: Any) -> None:
    receiver = await start_receiver(aiohttp_server)
    data_dir = str(tmp_path_factory.mktemp("kept"))
    registry = Registry.of(wrapper("trainer"))
    client = await serve(registry, data_dir=data_dir, **ON)
    pidfile = tmp_path / "pids"
    resp = await client.post(URL, params={"sleep": "60", "pidfile": str(pidfile)},
                             headers={"Webhook-URL": receiver.url})
    uuid = (await resp.json())["uuid"]
    await wait_file(pidfile)
    await client.close()  # stops the training: recorded as an error, its delivery waits
    assert not receiver.received

    await serve(registry, data_dir=data_dir, **ON)
    got = await receiver.next()
    delivered = json.loads(got.body)
    assert (delivered["uuid"], delivered["status"]) == (uuid, "error")
    assert "server stopped" in delivered["message"] and verify(SECRET, got)

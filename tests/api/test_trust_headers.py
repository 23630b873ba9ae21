"""Issue 22, item 11, over HTTP: ``/v2/resources/`` names running trainings (ids and where they
run) only to a request with an API key where keys are set, its totals stay public; a header a
job hangs on (``DEEPaaS-Resources``, ``Webhook-URL``) sent twice is a 422 and records nothing."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

from tests.helpers import eventually, poll_job

URL = "/v2/models/trainer/train/"
RESOURCES = "/v2/resources/"
KEY = {"Authorization": "Bearer secret"}


async def test_trainings_on_the_resources_route_need_the_key(make_client: Any,
                                                            tmp_path: Any) -> None:
    client = await make_client("trainer", api_key=("secret",))
    gate = tmp_path / "gate"
    job = await (await client.post(URL, params={"gate": str(gate)}, headers={
        **KEY, "DEEPaaS-Resources": "cpus=1"})).json()

    async def held() -> dict[str, Any] | None:
        found = await (await client.get(RESOURCES, headers=KEY)).json()
        return found if found["nodes"][0]["trainings"] else None

    keyed = await eventually(held, "the training on the resources route")
    assert keyed["nodes"][0]["trainings"] == {job["uuid"]: job["placement"]}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        resp = await client.get(RESOURCES, headers=headers)
        assert resp.status == 200  # public: what may be asked for, and what is free
        text = await resp.text()
        assert job["uuid"] not in text
        public = await resp.json()
        assert "trainings" not in public["nodes"][0]
        assert public["totals"] == keyed["totals"] and public["sites"] == keyed["sites"]
        assert public["nodes"][0]["cpus"] == keyed["nodes"][0]["cpus"]
    gate.touch()

    async def done() -> bool:
        record = await (await client.get(URL + job["uuid"], headers=KEY)).json()
        return record["status"] == "done"

    await eventually(done, "the training's end", timeout=30)


async def test_an_open_server_shows_its_trainings_to_all(make_client: Any,
                                                          tmp_path: Any) -> None:
    client = await make_client("trainer")
    gate = tmp_path / "gate"
    job = await (await client.post(URL, params={"gate": str(gate)})).json()

    async def listed() -> bool:
        found = await (await client.get(RESOURCES)).json()
        return job["uuid"] in found["nodes"][0]["trainings"]

    await eventually(listed, "the training on the resources route")
    gate.touch()
    assert (await poll_job(client, URL, job["uuid"]))["status"] == "done"


@pytest.mark.parametrize(("header", "values"), [
    ("DEEPaaS-Resources", ("cpus=1", "cpus=2")),
    ("Webhook-URL", ("http://127.0.0.1:9/a", "http://127.0.0.1:9/b")),
])
async def test_a_job_header_sent_twice_is_refused_and_records_nothing(
        make_client: Any, header: str, values: tuple[str, str]) -> None:
    client = await make_client("trainer", webhook_allow=("http://127.0.0.1:*",),
                               webhook_private=True)
    twice = CIMultiDict([(header, value) for value in values])
    resp = await client.post(URL, headers=twice)
    assert resp.status == 422
    assert await resp.json() == {header: ["sent 2 times: send it once."]}
    assert await (await client.get(URL)).json() == []
    once = await client.post(URL, headers={header: values[0]})
    assert once.status == 200, await once.text()


async def test_a_webhook_url_sent_twice_on_an_asynchronous_prediction_is_refused(
        make_client: Any) -> None:
    client = await make_client("basic", webhook_allow=("http://127.0.0.1:*",),
                               webhook_private=True)
    twice = CIMultiDict([("Prefer", "respond-async"), ("Webhook-URL", "http://127.0.0.1:9/a"),
                         ("Webhook-URL", "http://127.0.0.1:9/b")])
    resp = await client.post("/v2/models/basic/predict/", headers=twice)
    assert resp.status == 422
    assert await resp.json() == {"Webhook-URL": ["sent 2 times: send it once."]}
    assert await (await client.get("/v2/models/basic/predictions/")).json() == []

"""The line of trainings waiting to start is bounded (--max-waiting-trainings)."""

from __future__ import annotations

from tests.api.test_train import URL, _poll


async def _json(resp):
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_a_full_line_answers_503_and_takes_more_once_one_ends(make_client, tmp_path):
    client = await make_client("trainer", trainings_per_model=1, max_waiting_trainings=2)
    gate = tmp_path / "gate"
    running = await _json(await client.post(URL, params={"gate": str(gate)}))
    waiting = [await _json(await client.post(URL)) for _ in range(2)]
    assert [(w["queued"], w["position"]) for w in waiting] == [(True, 1), (True, 2)]

    resp = await client.post(URL, params={"epochs": "7"})
    assert resp.status == 503 and resp.headers["Retry-After"] == "10"
    assert (await resp.json())["message"] == (
        "2 trainings are waiting to start on this server already (--max-waiting-trainings); "
        "try again later")
    listed = await _json(await client.get(URL))
    assert sorted(j["uuid"] for j in listed) == sorted(
        j["uuid"] for j in [running, *waiting])  # the refused one left no record

    gate.touch()
    assert (await _poll(client, running["uuid"]))["status"] == "done"
    accepted = await _json(await client.post(URL, params={"epochs": "7"}))
    # the DEEPaaS 2.x answer, with our place in line when it waits
    assert list(accepted)[:4] == ["date", "args", "uuid", "status"]
    assert accepted["status"] == "running" and accepted["args"]["epochs"] == 7
    for job in [*waiting, accepted]:
        assert (await _poll(client, job["uuid"]))["status"] == "done"


async def test_no_bound_with_zero(make_client, tmp_path):
    client = await make_client("trainer", trainings_per_model=1, max_waiting_trainings=0)
    gate = tmp_path / "gate"
    running = await _json(await client.post(URL, params={"gate": str(gate)}))
    waiting = [await _json(await client.post(URL)) for _ in range(5)]
    assert waiting[-1]["position"] == 5
    gate.touch()
    for job in [running, *waiting]:
        assert (await _poll(client, job["uuid"]))["status"] == "done"

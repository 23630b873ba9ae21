"""Asking a training's resources over HTTP: refused at once when they can never be given,
waiting in line while they are held, and recorded with where the training was placed."""

from __future__ import annotations

import os

import pytest

from tests.helpers import poll_job

URL = "/v2/models/trainer/train/"
HEADER = "DEEPaaS-Resources"
CPUS = len(os.sched_getaffinity(0))


async def _jobs(client) -> list:
    return await (await client.get(URL)).json()


@pytest.mark.parametrize("asked, says", [
    ("gpus=64", "gpus=64, but this machine has 0"),
    ("cpus=%d" % (CPUS + 1), "cpus=%d, but this machine has %d" % (CPUS + 1, CPUS)),
    ("memory=64TiB", "memory=64 TiB, but this machine has"),
    ("site=cern", "site=cern, but the only site is lab"),
])
async def test_what_can_never_be_given_is_a_422_at_once(make_client, asked, says):
    client = await make_client("trainer", site="lab")
    resp = await client.post(URL, headers={HEADER: asked})
    assert resp.status == 422
    assert says in (await resp.json())["message"]
    assert await _jobs(client) == []  # nothing was recorded


@pytest.mark.parametrize("asked, key", [
    ("cpus=two", "cpus"), ("memory=1XB", "memory"), ("disk=10GiB", "disk"),
    # numbers Python reads as infinity or refuses to read: a 422 too, not a 500
    ("memory=1e400", "memory"), ("cpus=" + "9" * 5000, "cpus"), ("gpus=" + "9" * 30, "gpus"),
    ("memory=" + "9" * 5000 + "B", "memory"), ("memory=1e300GiB", "memory")])
async def test_a_malformed_header_is_a_422_naming_the_key(make_client, asked, key):
    client = await make_client("trainer")
    resp = await client.post(URL, headers={HEADER: asked})
    assert resp.status == 422
    (message,) = (await resp.json())[HEADER]
    assert message.startswith(key + ":")


async def test_a_training_waits_while_its_cpus_are_held_and_shows_its_placement(
        make_client, tmp_path):
    client = await make_client("trainer", site="lab", trainings_per_model=0)
    gate = tmp_path / "gate"
    first = await (await client.post(URL, params={"gate": str(gate)},
                                     headers={HEADER: "cpus=%d" % CPUS})).json()
    assert first["status"] == "running" and "queued" not in first
    assert first["resources"] == {"cpus": CPUS}
    assert first["placement"] == {"node": os.uname().nodename, "site": "lab",
                                  "cpus": sorted(os.sched_getaffinity(0))}
    second = await (await client.post(URL, headers={HEADER: "cpus=1, memory=128MiB"})).json()
    assert second["queued"] is True and second["position"] == 1  # every CPU is held
    free = await (await client.post(URL, params={"epochs": "2"})).json()  # asks nothing
    assert "resources" not in free and "placement" not in free  # the 2.x record
    assert (await poll_job(client, URL, free["uuid"]))["status"] == "done"
    gate.touch()
    assert (await poll_job(client, URL, first["uuid"]))["status"] == "done"
    done = await poll_job(client, URL, second["uuid"])
    assert done["status"] == "done" and len(done["placement"]["cpus"]) == 1
    assert done["placement"]["memory"] == 128 * 2**20
    assert done["resources"] == {"cpus": 1, "memory": 128 * 2**20}


async def test_the_servers_defaults_and_the_modules_declaration_fill_what_is_not_asked(
        make_client):
    client = await make_client("trainer", train_resources="cpus=1, memory=1GiB")
    job = await (await client.post(URL, headers={HEADER: "memory=128MiB"})).json()
    assert job["resources"] == {"cpus": 1, "memory": 128 * 2**20}
    assert (await poll_job(client, URL, job["uuid"]))["status"] == "done"

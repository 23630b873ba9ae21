"""Resources of trainings on Ray (--executor ray): what no node has is a 422 naming what
exists, a site is a node label Ray honours, and what is not free now waits in line.

The first tests drive RayCapacity with readings made up here (no Ray); the others use the
session's local Ray instance, one node of 2 CPUs labelled ``site=testsite``.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from deepaas.cluster.capacity import RayCapacity, RayNode, Reading
from deepaas.exceptions import ResourcesUnavailable
from deepaas.resources.placement import Placement
from deepaas.resources.request import HEADER, Resources
from tests.api.test_train import URL
from tests.helpers import poll_job
from tests.raycluster import SITE

pytestmark = pytest.mark.cluster

GIB = 2**30


def _node(name: str, site: str, cpus: float, free_cpus: float, gpus: float = 0) -> RayNode:
    return RayNode(name, "10.0.0.%d" % len(name), site,
                   {"CPU": cpus, "GPU": gpus, "memory": 8.0 * GIB},
                   {"CPU": free_cpus, "GPU": gpus, "memory": 8.0 * GIB})


async def _capacity(*readings: Reading) -> RayCapacity:
    """A capacity that has read the first reading; each later :func:`_read_again` the next."""
    queue = list(readings)
    capacity = RayCapacity(cpus=1, read=lambda: queue.pop(0) if len(queue) > 1 else queue[0])
    await _read_again(capacity)
    return capacity


async def _read_again(capacity: RayCapacity) -> None:
    await capacity.open()  # a reading, and its renewal stopped at once: the test says when
    await capacity.close()


async def test_no_node_big_enough_or_no_such_site_is_refused_naming_what_exists():
    capacity = await _capacity(Reading((_node("a", "lab", 4, 4), _node("bb", "cloud", 2, 2, 1)),
                                       time.monotonic()))
    capacity.check(Resources(cpus=4, site="lab"))
    with pytest.raises(ResourcesUnavailable, match="cpus=9999, but the largest Ray node has 4"):
        capacity.check(Resources(cpus=9999))
    with pytest.raises(ResourcesUnavailable, match="gpus=1, but the largest Ray node of site "
                                                   "lab has 0"):
        capacity.check(Resources(gpus=1, site="lab"))
    with pytest.raises(ResourcesUnavailable, match="memory=16 GiB, but the largest Ray node "
                                                   "has 8 GiB"):
        capacity.check(Resources(memory=16 * GIB))
    with pytest.raises(ResourcesUnavailable, match="site=moon, but the sites of the Ray nodes "
                                                   "are cloud, lab"):
        capacity.check(Resources(site="moon"))
    # each is there, but never on one node
    with pytest.raises(ResourcesUnavailable, match="no single Ray node has them all at once"):
        capacity.check(Resources(cpus=4, gpus=1))


async def test_what_this_server_placed_counts_until_ray_shows_it_and_ends_at_once():
    now = time.monotonic()
    capacity = await _capacity(Reading((_node("n1", "lab", 2, 2), _node("api", "", 0, 0)),
                                       now),
                               # a later reading (after the actor ran): Ray shows it holding 2
                               Reading((_node("n1", "lab", 2, 0), _node("api", "", 0, 0)),
                                       now + 60))
    first = capacity.take("first", Resources(cpus=2))
    assert first == Placement(node="", site="")  # where Ray puts it is known once it runs
    assert capacity.take("second", Resources(cpus=1)) is None  # a burst: its CPUs are gone
    assert [n["name"] for n in capacity.nodes()] == ["n1"]  # "api" runs nothing: left out
    assert capacity.nodes()[0]["cpus"] == {"total": 2, "free": 0}
    placed = capacity.placed("first", Placement(node="n1", site="", gpus=()))
    assert placed == Placement(node="n1", site="lab", gpus=())  # the site from the label
    await _read_again(capacity)
    assert capacity.take("second", Resources(cpus=1)) is None  # counted once, not twice
    assert capacity.nodes()[0]["trainings"] == {"first": {"node": "n1", "site": "lab",
                                                          "gpus": []}}
    capacity.release("first")  # Ray's reading still shows it: free here until it does not
    assert capacity.take("second", Resources(cpus=1)) is not None
    assert capacity.nodes()[0]["cpus"] == {"total": 2, "free": 1}


# --- on the session's Ray instance ---------------------------------------------------------


@pytest.fixture
async def ray_client(make_client, ray_cluster):
    return await make_client("trainer", executor="ray", trainings_per_model=0)


async def _post(client, resources: str, **params):
    return await client.post(URL, params={k: str(v) for k, v in params.items()},
                             headers={HEADER: resources})


async def _refused(client, resources: str) -> str:
    resp = await _post(client, resources)
    assert resp.status == 422, await resp.text()
    return await resp.text()


async def test_on_ray_what_no_node_has_is_a_422_naming_what_exists(ray_client):
    assert "cpus=9999, but the largest Ray node has 2" in await _refused(ray_client,
                                                                         "cpus=9999")
    assert "gpus=8, but the largest Ray node has 0" in await _refused(ray_client, "gpus=8")
    assert "site=moon, but the sites of the Ray nodes are %s" % SITE in await _refused(
        ray_client, "site=moon")
    trainings = await (await ray_client.get(URL)).json()
    assert trainings == []  # none of them was recorded


async def test_on_ray_a_training_at_a_site_runs_on_a_node_of_that_site(ray_client):
    import ray

    resp = await _post(ray_client, "cpus=1, site=%s" % SITE, steps=1)
    assert resp.status == 200, await resp.text()
    job = await poll_job(ray_client, URL, (await resp.json())["uuid"], timeout=90)
    assert job["status"] == "done", job
    assert job["resources"] == {"cpus": 1, "site": SITE}
    node = ray.get_runtime_context().get_node_id()  # the one node, labelled site=testsite
    assert job["placement"] == {"node": node, "site": SITE, "gpus": []}
    resources = await (await ray_client.get("/v2/resources/")).json()
    assert resources["executor"] == "ray" and resources["sites"] == [SITE]
    assert [(n["name"], n["site"], n["cpus"]["total"]) for n in resources["nodes"]] == [
        (node, SITE, 2)]


async def _logged(client, uuid: str, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in await (await client.get(URL + uuid + "/logs")).text():
        assert time.monotonic() < deadline, "never logged %r" % text
        await asyncio.sleep(0.1)


async def test_on_ray_a_training_waits_in_line_until_the_cpus_it_needs_are_free(
        ray_client, tmp_path):
    gate = tmp_path / "gate"
    first = await (await _post(ray_client, "cpus=2", gate=gate)).json()
    await _logged(ray_client, first["uuid"], "waiting at the gate")
    resp = await _post(ray_client, "cpus=2")
    assert resp.status == 200, await resp.text()
    second = await resp.json()
    waiting = await (await ray_client.get(URL + second["uuid"])).json()
    assert (waiting.get("queued"), waiting.get("position")) == (True, 1), waiting
    gate.touch()
    deadline = time.monotonic() + 60
    while waiting.get("queued"):  # it leaves the line only once the first has ended
        assert time.monotonic() < deadline, "the waiting training never started"
        await asyncio.sleep(0.05)
        waiting = await (await ray_client.get(URL + second["uuid"])).json()
        if not waiting.get("queued"):
            ended = await (await ray_client.get(URL + first["uuid"])).json()
            assert ended["status"] == "done", ended
    assert (await poll_job(ray_client, URL, second["uuid"], timeout=90))["status"] == "done"

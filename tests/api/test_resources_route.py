"""``GET /v2/resources/`` over HTTP: this machine's CPUs, GPUs and memory, what a training holds
while it runs, the same numbers in the metrics, and the header in both spec documents; the
answer's totals and sites over several nodes, as a cluster lists them."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from deepaas.api.v2.resources import overview
from deepaas.jobs.manager import JobManager
from deepaas.jobs.sqlite import SQLiteStore
from deepaas.resources.inventory import Node
from deepaas.resources.placement import LocalAllocation
from tests.helpers import poll_job

URL = "/v2/models/trainer/train/"
RESOURCES = "/v2/resources/"
HEADER = "DEEPaaS-Resources"
CPUS = sorted(os.sched_getaffinity(0))
NODE = os.uname().nodename


async def _resources(client: Any) -> dict[str, Any]:
    resp = await client.get(RESOURCES)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _gauges(client: Any) -> dict[tuple[str, str, str, str], float]:
    """The resource gauges: (metric, node, site, state) -> value."""
    text = await (await client.get("/metrics")).text()
    return {(s.name, s.labels["node"], s.labels["site"], s.labels["state"]): s.value
            for family in text_string_to_metric_families(text)
            if family.name.startswith("deepaas_resources_") for s in family.samples}


async def test_the_resources_list_this_machine(make_client):
    client = await make_client("trainer", site="lab")
    found = await _resources(client)
    assert found["executor"] == "local" and found["sites"] == ["lab"]
    (node,) = found["nodes"]
    assert node["name"] == NODE and node["site"] == "lab"
    assert node["cpus"] == {"total": len(CPUS), "free": len(CPUS), "ids": CPUS,
                            "free_ids": CPUS}
    gpus = node["gpus"]
    if shutil.which("nvidia-smi") is None:  # a CPU-only machine offers none
        assert gpus == {"total": 0, "free": 0, "devices": [], "free_ids": []}
    assert gpus["total"] == gpus["free"] == len(gpus["devices"])
    assert 0 < node["memory"]["total"] == node["memory"]["free"]
    assert node["trainings"] == {}
    assert found["totals"] == {kind: {"total": node[kind]["total"], "free": node[kind]["free"]}
                               for kind in ("cpus", "gpus", "memory")}


async def test_an_unnamed_site_is_not_offered(make_client):
    found = await _resources(await make_client("trainer"))
    assert found["sites"] == [] and found["nodes"][0]["site"] == ""


async def test_the_route_is_public_like_the_models_list(make_client):
    client = await make_client("trainer", api_key=("secret",))
    assert (await client.get(RESOURCES)).status == 200
    assert (await client.post(URL)).status == 401  # trainings still need the key


async def _wait_free(client: Any, cpus: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while (found := await _resources(client))["totals"]["cpus"]["free"] != cpus:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)
    return found


async def test_a_training_holds_its_cpu_until_it_ends(make_client, tmp_path):
    client = await make_client("trainer", site="lab")
    gate = tmp_path / "gate"
    job = await (await client.post(URL, params={"gate": str(gate)},
                                   headers={HEADER: "cpus=1"})).json()
    (held,) = job["placement"]["cpus"]
    found = await _wait_free(client, len(CPUS) - 1)
    (node,) = found["nodes"]
    assert node["trainings"] == {job["uuid"]: job["placement"]}
    assert node["cpus"]["free_ids"] == [c for c in CPUS if c != held]
    gauges = await _gauges(client)
    assert gauges["deepaas_resources_cpus", NODE, "lab", "free"] == len(CPUS) - 1
    assert gauges["deepaas_resources_cpus", NODE, "lab", "total"] == len(CPUS)
    gate.touch()
    assert (await poll_job(client, URL, job["uuid"]))["status"] == "done"
    found = await _wait_free(client, len(CPUS))
    assert found["nodes"][0]["trainings"] == {}
    gauges = await _gauges(client)
    assert gauges["deepaas_resources_cpus", NODE, "lab", "free"] == len(CPUS)


async def test_the_metrics_show_what_the_route_shows(make_client):
    client = await make_client("trainer", site="lab")
    (node,) = (await _resources(client))["nodes"]
    gauges = await _gauges(client)
    for kind, metric in (("cpus", "deepaas_resources_cpus"), ("gpus", "deepaas_resources_gpus"),
                         ("memory", "deepaas_resources_memory_bytes")):
        for state in ("total", "free"):
            assert gauges[metric, NODE, "lab", state] == node[kind][state], (kind, state)


async def test_more_gpus_than_listed_is_a_422_naming_what_exists(make_client):
    client = await make_client("trainer", site="lab")
    gpus = (await _resources(client))["totals"]["gpus"]["total"]
    resp = await client.post(URL, headers={HEADER: "gpus=64"})
    assert resp.status == 422
    assert "gpus=64, but this machine has %d" % gpus in (await resp.json())["message"]
    assert (await _resources(client))["nodes"][0]["trainings"] == {}


def _header_params(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation["parameters"] if p["in"] == "header" and p["name"] == HEADER]


async def test_both_documents_carry_the_header_and_the_route(make_client):
    client = await make_client("trainer")
    for document, ref in (("/swagger.json", "#/definitions/"),
                          ("/openapi.json", "#/components/schemas/")):
        spec = await (await client.get(document)).json()
        (param,) = _header_params(spec["paths"][URL]["post"])
        assert param["required"] is False and "cpus=2" in param["description"]
        assert param.get("type", param.get("schema", {}).get("type")) == "string"
        answer = spec["paths"][RESOURCES]["get"]["responses"]["200"]
        schema = answer["schema"] if "schema" in answer else \
            answer["content"]["application/json"]["schema"]
        assert schema == {"$ref": ref + "Resources"}


def _node(name: str, site: str | None, cpus: float, free: float) -> dict[str, Any]:
    """A node as a cluster's capacity lists it: counts only, no ids."""
    return {"name": name, "site": site, "cpus": {"total": cpus, "free": free},
            "gpus": {"total": 1, "free": 0}, "memory": {"total": 2**30, "free": 2**29},
            "trainings": {}}


def test_the_totals_add_the_nodes_up_and_only_named_sites_are_offered():
    nodes = [_node("b", "lab", 4, 1.5), _node("a", "cloud", 2, 2), _node("c", "", 1, 1),
             _node("d", "lab", 1, 0)]
    found = overview("ray", nodes)
    assert found["executor"] == "ray" and found["nodes"] == nodes
    assert found["totals"] == {"cpus": {"total": 8, "free": 4.5},
                               "gpus": {"total": 4, "free": 0},
                               "memory": {"total": 4 * 2**30, "free": 2 * 2**30}}
    assert found["sites"] == ["cloud", "lab"]
    assert overview("ray", [])["totals"]["cpus"] == {"total": 0, "free": 0}


def test_the_executor_is_named_by_its_kind(tmp_path):
    class RayExecutor:  # stands for deepaas.cluster.training's, by name only
        capacity = LocalAllocation(Node("n", "", (0,), (), 2**30))

    manager = JobManager(SQLiteStore(tmp_path / "jobs.db"), tmp_path,
                         executor=RayExecutor())
    assert manager.executor_name == "ray"
    assert manager.capacity is RayExecutor.capacity
    assert JobManager(SQLiteStore(tmp_path / "other.db"), tmp_path).executor_name == "local"


async def test_a_client_sending_the_header_as_an_argument_is_not_refused(make_client):
    # What a DEEPaaS 2.x form generator does with every documented parameter: the query key
    # is not an argument of the module, so it is ignored like any unknown one.
    client = await make_client("trainer")
    resp = await client.post(URL, params={HEADER: "cpus=1", "epochs": "2"})
    assert resp.status == 200, await resp.text()
    job = await poll_job(client, URL, (await resp.json())["uuid"])
    assert job["status"] == "done" and HEADER not in job["args"]
    assert "resources" not in job  # the 2.x record: nothing was asked

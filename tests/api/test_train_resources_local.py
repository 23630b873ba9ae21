"""What a training asked for is what it gets on this machine: its own CPUs, only its GPUs, and
a memory limit that ends it (and nothing else) when it goes over."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deepaas.jobs import tracking
from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper
from tests.helpers import poll_job, wait_file

URL = "/v2/models/hog/train/"
HEADER = "DEEPaaS-Resources"
SERVER_CPUS = sorted(os.sched_getaffinity(0))
GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")

# Both ways a training's processes are held: its own cgroup where this machine has a writable
# cgroup v2 (whose memory limit is memory.max where the controller is offered there, else the
# address-space limit) and never a cgroup (always the address-space limit).
WAYS = [pytest.param(True, id="cgroup", marks=pytest.mark.skipif(
            tracking.cgroup_home() is None, reason="no writable cgroup v2 here")),
        pytest.param(False, id="no-cgroup")]


async def _client(serve, **overrides):
    source = "tests.models.hog"
    return await serve(Registry.of(ModelWrapper("hog", resolve(source), source)), **overrides)


async def _train(client, asked: str | None = None, **args: str) -> dict:
    headers = {HEADER: asked} if asked is not None else {}
    resp = await client.post(URL, params=args, headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _seen(client, asked: str | None) -> tuple[dict, dict]:
    """What a training that asked ``asked`` saw, and its finished record."""
    job = await _train(client, asked)
    done = await poll_job(client, URL, job["uuid"])
    assert done["status"] == "done", done
    return done["result"]["output"], done


@pytest.mark.skipif(len(SERVER_CPUS) < 2, reason="needs two CPUs")
async def test_two_trainings_asking_one_cpu_each_see_only_their_own(serve, tmp_path):
    client = await _client(serve, trainings_per_model=0)
    gate, reports = tmp_path / "gate", [tmp_path / "one", tmp_path / "two"]
    jobs = [await _train(client, "cpus=1", report=str(path), gate=str(gate), spawn="true")
            for path in reports]
    for path in reports:  # both run at once, each pinned before it ran any module code
        await wait_file(path)
    told = [json.loads(path.read_text()) for path in reports]
    assert all(each["child_cpus"] == each["cpus"] for each in told)  # what it starts too
    seen = [each["cpus"] for each in told]
    assert all(len(cpus) == 1 for cpus in seen)
    assert seen[0] != seen[1] and set(seen[0] + seen[1]) <= set(SERVER_CPUS)
    gate.touch()
    for job, cpus in zip(jobs, seen, strict=True):
        done = await poll_job(client, URL, job["uuid"])
        assert done["status"] == "done"
        assert done["placement"]["cpus"] == cpus == done["result"]["output"]["cpus"]


async def test_gpus_0_leaves_a_training_no_gpu(serve):
    client = await _client(serve)
    seen, done = await _seen(client, "gpus=0")
    assert seen["env"] == {"CUDA_VISIBLE_DEVICES": "", "NVIDIA_VISIBLE_DEVICES": "",
                           "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    assert done["placement"]["gpus"] == [] and seen["cpus"] == SERVER_CPUS


async def test_a_training_that_asks_nothing_keeps_every_cpu_and_its_environment(serve):
    client = await _client(serve)
    seen, done = await _seen(client, None)
    assert seen["cpus"] == SERVER_CPUS
    assert seen["env"] == {name: os.environ.get(name) for name in GPU_VARIABLES}
    assert "placement" not in done  # the DEEPaaS 2.x record


async def _error(client, uuid: str) -> dict:
    done = await poll_job(client, URL, uuid)
    assert done["status"] == "error", done
    return done


@pytest.mark.parametrize("cgroups", WAYS)
async def test_a_training_over_its_memory_limit_ends_alone_naming_it(serve, tmp_path, cgroups):
    client = await _client(serve, trainings_per_model=0, training_cgroups=cgroups)
    gate, report = tmp_path / "gate", tmp_path / "bystander"
    bystander = await _train(client, "cpus=1", report=str(report), gate=str(gate), eat="64")
    await wait_file(report)
    hog = await _train(client, "memory=256MiB", eat="1024")
    failed = await _error(client, hog["uuid"])
    assert "exceeded its memory limit of 256 MiB" in failed["message"]
    assert failed["placement"]["memory"] == 256 * 2**20
    log = await (await client.get(URL + hog["uuid"] + "/logs")).text()
    assert "memory limit of 256 MiB" in log
    # The server answers, the training that ran beside it goes on, and a new one runs.
    resp = await client.post("/v2/models/hog/predict/")
    assert resp.status == 200 and (await resp.json())["predictions"] == {"alive": True}
    gate.touch()
    done = await poll_job(client, URL, bystander["uuid"])
    assert done["status"] == "done" and done["result"]["output"]["ate"] == 64
    again = await _train(client, "memory=256MiB", eat="64")
    assert (await poll_job(client, URL, again["uuid"]))["status"] == "done"


async def test_a_module_whose_own_error_is_not_memory_keeps_its_message(serve, tmp_path):
    client = await _client(serve)
    missing = Path(tmp_path / "no" / "such" / "folder" / "report")
    job = await _train(client, "memory=256MiB", report=str(missing))
    failed = await _error(client, job["uuid"])
    assert "memory limit" not in failed["message"] and "No such file" in failed["message"]

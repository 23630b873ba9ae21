"""Nothing a training started outlives it: a process that left the training's process group
(``setsid``) and ignores SIGTERM is stopped when the training is cancelled or ends, found by
the training's cgroup where the machine has a writable cgroup v2, else by its job id."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from deepaas.jobs import tracking
from tests.helpers import alive, poll_job, wait_file

URL = "/v2/models/detached/train/"
HOME = tracking.cgroup_home()

# Both ways where this machine has both; the cgroup one is skipped where it has no cgroup v2.
WAYS = [pytest.param(True, id="cgroup", marks=pytest.mark.skipif(
            HOME is None, reason="no writable cgroup v2 here")),
        pytest.param(False, id="job-id")]


def _cgroup_of(pid: int) -> str:
    lines = Path("/proc/%d/cgroup" % pid).read_text().splitlines()
    return next(line[3:] for line in lines if line.startswith("0::"))


async def _start(client, pidfile: Path, cgroups: bool, sleep: float = 60.0) -> tuple[str, int]:
    """Start a training that leaves a detached process; answer the job and that process."""
    resp = await client.post(URL, params={"pidfile": str(pidfile), "sleep": str(sleep)})
    assert resp.status == 200, await resp.text()
    uuid = (await resp.json())["uuid"]
    await wait_file(pidfile)
    leftover = int(pidfile.read_text())
    if cgroups:  # the process that left the group is still in the training's cgroup
        assert _cgroup_of(leftover).endswith("/deepaas/" + uuid)
    else:
        assert tracking.processes_of([uuid])  # found by its job id
    return uuid, leftover


async def _gone(pid: int, timeout: float = 10.0) -> float:
    """Seconds until ``pid`` runs no more (a zombie runs nothing)."""
    began = time.monotonic()
    while alive(pid):
        assert time.monotonic() - began < timeout, "process %d is still running" % pid
        await asyncio.sleep(0.02)
    return time.monotonic() - began


@pytest.mark.parametrize("cgroups", WAYS)
async def test_cancel_stops_a_detached_process_that_ignores_sigterm(make_client, tmp_path,
                                                                    cgroups):
    client = await make_client("detached", training_cgroups=cgroups, cancel_grace=0.5)
    uuid, leftover = await _start(client, tmp_path / "pid", cgroups)
    began = time.monotonic()
    resp = await client.delete(URL + uuid)
    assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    answered = time.monotonic() - began
    await _gone(leftover, timeout=1.0)  # gone by the time the cancel is answered, or nearly
    took = time.monotonic() - began
    print("cancel (%s): answered after %.3f s, leftover gone after %.3f s"
          % ("cgroup" if cgroups else "job id", answered, took))
    assert 0.5 <= took < 5, took  # SIGTERM was ignored: the SIGKILL came after the grace
    assert not tracking.processes_of([uuid])
    if cgroups:
        assert not (HOME / uuid).exists()  # the training's cgroup is removed


@pytest.mark.parametrize("cgroups", WAYS)
async def test_a_training_that_ends_leaves_nothing_running(make_client, tmp_path, cgroups):
    client = await make_client("detached", training_cgroups=cgroups, cancel_grace=0.5)
    uuid, leftover = await _start(client, tmp_path / "pid", cgroups, sleep=0.0)
    began = time.monotonic()
    job = await poll_job(client, URL, uuid)
    recorded = time.monotonic() - began
    assert job["status"] == "done" and job["result"]["output"] == {"left": "a process behind"}
    assert not alive(leftover), "a process of a done training outlived it"
    print("done (%s): recorded %.3f s after the leftover started" %
          ("cgroup" if cgroups else "job id", recorded))
    if cgroups:
        assert not (HOME / uuid).exists()


async def test_without_a_cgroup_a_training_is_tracked_by_its_job_id(tmp_path):
    # A cgroup that cannot be made (no cgroup v2, or not writable) never fails the training.
    tracker = tracking.track("job-1", 1, tmp_path / "missing" / "deepaas")
    assert type(tracker) is tracking.Tracker


def test_no_cgroup_home_without_cgroup_v2(monkeypatch):
    monkeypatch.setattr(tracking, "_cgroup2_mount", lambda: None)
    assert tracking.cgroup_home() is None
    monkeypatch.setattr(tracking, "_cgroup2_mount", lambda: (Path("/nonexistent"), "/"))
    assert tracking.cgroup_home() is None  # it cannot be written there

"""deepaas.jobs.limits: the environment a placement gives, pinning and limiting a process, and
how a memory overrun reads, including a cgroup's kill (a fake cgroup folder stands for one:
this machine's cgroup v2 may offer no memory controller)."""

from __future__ import annotations

import asyncio
import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from deepaas.jobs import limits, process, tracking
from deepaas.resources.placement import Placement
from tests.helpers import wait_file

MiB = 2**20
CPUS = sorted(os.sched_getaffinity(0))


def _placement(**given) -> Placement:
    return Placement(node="here", site="", **given)


def test_a_placement_that_constrains_nothing_leaves_the_environment_alone():
    assert limits.environment(None, by_cgroup=False) == {}
    assert limits.environment(_placement(cpus=(0,)), by_cgroup=False) == {}


def test_gpu_ids_and_the_memory_limit_reach_the_environment(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    env = limits.environment(_placement(gpus=(0, 2), memory=256 * MiB), by_cgroup=False)
    assert env == {"CUDA_VISIBLE_DEVICES": "0,2", "NVIDIA_VISIBLE_DEVICES": "0,2",
                   "CUDA_DEVICE_ORDER": "PCI_BUS_ID", "MALLOC_ARENA_MAX": "2",
                   limits.ENV_MEMORY_LIMIT: str(256 * MiB)}
    # a cgroup counts memory used, not address space reserved: malloc is left as it is
    assert limits.environment(_placement(gpus=(), memory=MiB), by_cgroup=True) == {
        "CUDA_VISIBLE_DEVICES": "", "NVIDIA_VISIBLE_DEVICES": "",
        "CUDA_DEVICE_ORDER": "PCI_BUS_ID", limits.ENV_MEMORY_LIMIT: str(MiB)}


@pytest.mark.parametrize("size, shown", [(256 * MiB, "256 MiB"), (3 * 2**30 // 2, "1.5 GiB"),
                                         (4096, "4 KiB"), (100, "100 bytes")])
def test_the_overrun_message_names_the_limit(size, shown):
    assert limits.exceeded_message(size) == "the training exceeded its memory limit of " + shown


def test_only_running_out_of_memory_under_a_limit_is_an_overrun(monkeypatch):
    monkeypatch.delenv(limits.ENV_MEMORY_LIMIT, raising=False)
    assert limits.exceeded(MemoryError()) is None  # no limit set: the module's own story
    monkeypatch.setenv(limits.ENV_MEMORY_LIMIT, str(256 * MiB))
    assert limits.exceeded(MemoryError()) == limits.exceeded_message(256 * MiB)
    assert limits.exceeded(OSError(errno.ENOMEM, "Cannot allocate memory")) is not None
    assert limits.exceeded(OSError(errno.ENOENT, "No such file")) is None
    assert limits.exceeded(ValueError("bad")) is None


def _fake_home(tmp_path: Path, controllers: str, enabled: str = "") -> Path:
    home = tmp_path / "deepaas"
    home.mkdir()
    (home / "cgroup.controllers").write_text(controllers + "\n")
    (home / "cgroup.subtree_control").write_text(enabled + "\n")
    return home


def test_the_memory_controller_is_enabled_for_trainings_where_it_is_offered(tmp_path):
    assert limits.cgroup_memory(None) is False
    home = _fake_home(tmp_path, "cpu io memory pids")
    assert limits.cgroup_memory(home) is True
    assert (home / "cgroup.subtree_control").read_text() == "+memory"


def test_no_memory_controller_means_no_cgroup_limit(tmp_path):
    home = _fake_home(tmp_path, "hugetlb")  # as a hybrid machine's cgroup v2 offers
    assert limits.cgroup_memory(home) is False


@pytest.mark.parametrize("alone", [True, False])
def test_a_server_alone_in_its_cgroup_moves_into_a_leaf_to_pass_memory_down(tmp_path, alone):
    """cgroup v2 enables a controller for children only from a cgroup with no process: the
    server (a systemd service's only process) leaves its cgroup for a leaf beside its
    trainings' folder; with others beside it, it stays (the kernel then refuses: EBUSY)."""
    own = tmp_path / "service"
    own.mkdir()
    (own / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text("\n")
    (own / "cgroup.procs").write_text("%d\n" % os.getpid() + ("" if alone else "1\n"))
    home = own / "deepaas"
    home.mkdir()
    (home / "cgroup.controllers").write_text("\n")
    (home / "cgroup.subtree_control").write_text("\n")
    assert limits.cgroup_memory(home) is True  # in this fake tree every write succeeds
    assert (own / "cgroup.subtree_control").read_text() == "+memory"
    assert (home / "cgroup.subtree_control").read_text() == "+memory"
    leaf = own / "deepaas-server" / "cgroup.procs"
    assert (leaf.read_text() == str(os.getpid())) if alone else not leaf.exists()


def test_an_oom_kill_in_the_cgroup_is_the_overrun(tmp_path):
    events = tmp_path / "memory.events"
    assert limits.Enforced(256 * MiB, tmp_path).overrun() is None  # no events file
    events.write_text("low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n")
    assert limits.Enforced(256 * MiB, tmp_path).overrun() is None  # at its limit, not over
    events.write_text("low 0\nhigh 0\nmax 40\noom 2\noom_kill 1\noom_group_kill 1\n")
    assert limits.Enforced(256 * MiB, tmp_path).overrun() == limits.exceeded_message(256 * MiB)
    assert limits.Enforced(None, tmp_path).overrun() is None


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_apply_pins_the_process_and_limits_its_address_space(sleeper):
    enforced = limits.apply(sleeper, _placement(cpus=(CPUS[-1],), memory=256 * MiB), None)
    assert os.sched_getaffinity(sleeper) == {CPUS[-1]}
    assert resource.prlimit(sleeper, resource.RLIMIT_AS) == (256 * MiB, 256 * MiB)
    assert enforced == limits.Enforced(256 * MiB)  # the process reports its overrun itself


def test_apply_limits_the_whole_cgroup_where_it_can(sleeper, tmp_path):
    enforced = limits.apply(sleeper, _placement(memory=256 * MiB), tmp_path)
    assert enforced == limits.Enforced(256 * MiB, tmp_path)
    assert (tmp_path / "memory.max").read_text() == str(256 * MiB)
    assert (tmp_path / "memory.swap.max").read_text() == "0"
    assert (tmp_path / "memory.oom.group").read_text() == "1"
    assert resource.prlimit(sleeper, resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY
    assert os.sched_getaffinity(sleeper) == set(CPUS)  # cpus=None: not pinned


def _launch(tmp_path: Path, placement: Placement, **kwargs) -> process.Launch:
    args = {"eat": 0, "report": "", "gate": "", "spawn": False, **kwargs}
    return process.Launch(job_id="job-" + tmp_path.name, name="hog", source="tests.models.hog",
                          kwargs=args, warm=False, log_path=tmp_path / "log.txt",
                          data_dir=tmp_path, tmp_dir=str(tmp_path), placement=placement,
                          grace=1.0)


async def test_a_training_that_cannot_be_pinned_does_not_start(tmp_path):
    launch = _launch(tmp_path, _placement(cpus=(4096,)))  # no such CPU
    with pytest.raises(OSError):
        await process.start(launch)
    assert tracking.processes_of([launch.job_id]) == []  # nothing of it was left running
    assert list(tmp_path.glob("*.json")) == []  # nor its result file


async def test_a_training_its_cgroup_killed_for_memory_ends_naming_its_limit(tmp_path):
    """The parent's side of a cgroup's kill, with a fake cgroup tree: the training is
    adopted and limited there, then killed as the kernel would, with ``oom_kill`` counted."""
    home = _fake_home(tmp_path, "memory", enabled="memory")
    gate, report = tmp_path / "gate", tmp_path / "report"
    launch = _launch(tmp_path, _placement(memory=256 * MiB), gate=str(gate), report=str(report))
    training = await process.start(launch, home)
    cgroup = home / launch.job_id
    assert (cgroup / "cgroup.procs").read_text() == str(training.pid)
    assert (cgroup / "memory.max").read_text() == str(256 * MiB)
    await wait_file(report)
    (cgroup / "memory.events").write_text("oom 1\noom_kill 1\n")
    (cgroup / "cgroup.procs").write_text("")  # the kernel's bookkeeping: nothing left in it
    assert training.pid is not None
    os.kill(training.pid, signal.SIGKILL)
    outcome = await asyncio.wait_for(training.wait(), 20)
    assert outcome == process.Outcome(False, message=limits.exceeded_message(256 * MiB))
    last = launch.log_path.read_text().splitlines()[-1]
    assert last == "[deepaas] " + limits.exceeded_message(256 * MiB)  # as under RLIMIT_AS

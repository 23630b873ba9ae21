"""Trainings on Ray (``--executor ray``): each one is an actor on some node of the cluster.

The actor starts the very same training process a local server would (``deepaas.jobs.child``,
in a process group of its own that dies with the actor) on its node, keeps its log and progress
reports there, and answers polls from the server, which copies the log into the job's log file
and folds the reports into the record. When the training ends or is cancelled, the actor stops
every process it started on the node (found by cgroup or job id, as a local server does), then
the server kills the actor; a node or worker that dies ends the job in ``error`` with Ray's
reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayActorError, RayError

from deepaas import ENV_DATA_DIR
from deepaas.cluster.capacity import RayCapacity
from deepaas.cluster.connection import RayConnection
from deepaas.cluster.shipping import asked_options, pack, resources, unpack
from deepaas.jobs import process, tracking
from deepaas.jobs.executor import Execution
from deepaas.jobs.process import Launch, Outcome
from deepaas.resources.placement import Placement
from deepaas.resources.request import Resources

__all__ = ["RayExecutor", "TrainingActor"]

LOG = logging.getLogger(__name__)
_POLL = 0.25  # seconds between polls of a running training
_LOG_CHUNK = 1024 * 1024  # log bytes one poll brings back at most


class TrainingActor:
    """Runs one training on a Ray node (an async actor: polls answer while it runs)."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="deepaas-ray-train-")
        self._log = Path(self._dir) / "log.txt"
        self._outputs = Path(self._dir) / "output"
        self._proc: process.TrainingProcess | None = None
        self._reports: list[dict[str, Any]] = []
        self._outcome: dict[str, Any] | None = None
        self._collector: asyncio.Task[None] | None = None

    async def start(self, launch: dict[str, Any]) -> dict[str, Any]:
        """Start the training process; answer where it runs."""
        data_dir = Path(os.environ.get(ENV_DATA_DIR) or os.path.join(self._dir, "data"))
        node = ray.get_runtime_context().get_node_id()
        memory = launch.get("memory")
        # What the training leaves running on this node is stopped at its end, found by its
        # cgroup on this node or its job id, as on a local server. Ray's memory is only
        # booked: the node holds the training to it as a local server would. Its CPUs and
        # GPUs are Ray's to give (Ray set CUDA_VISIBLE_DEVICES in this worker already).
        self._proc = await process.start(Launch(
            job_id=launch["job_id"], name=launch["name"], source=launch["source"],
            kwargs=unpack(launch["kwargs"], self._dir), warm=launch["warm"],
            log_path=self._log, data_dir=data_dir, tmp_dir=self._dir,
            output_dir=self._outputs, grace=launch["grace"], asked=Resources(memory=memory),
            placement=Placement(node, "", memory=memory) if memory else None),
            tracking.cgroup_home() if launch["cgroups"] else None)
        self._collector = asyncio.create_task(self._collect(self._proc))  # held: not collected
        return {"pid": self._proc.pid, "node": node, "gpus": _gpu_ids(), "cpus": _pinned()}

    async def _collect(self, proc: process.TrainingProcess) -> None:
        async for report in proc.reports():
            self._reports.append(report)
        self._outcome = dataclasses.asdict(await proc.wait())

    async def poll(self, seen: int, offset: int) -> dict[str, Any]:
        """Reports after the first ``seen``, log bytes from ``offset``, and the outcome once
        the training ended and its whole log was handed over."""
        ended = self._outcome is not None  # read first: the log is complete once it is set
        with open(self._log, "rb") as handle:
            handle.seek(offset)
            log = handle.read(_LOG_CHUNK)
        complete = ended and len(log) < _LOG_CHUNK
        return {"reports": self._reports[seen:], "log": log,
                "outcome": self._outcome if complete else None}

    async def terminate(self, grace: float) -> None:
        if self._proc is not None:
            await self._proc.terminate(grace)

    def outputs(self) -> dict[str, bytes]:
        """What the training wrote to its output dir, to be kept by the server."""
        return {path.relative_to(self._outputs).as_posix(): path.read_bytes()
                for path in sorted(self._outputs.rglob("*")) if path.is_file()}

    def cleanup(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def _gpu_ids() -> list[int] | None:
    """The GPUs Ray gave this actor (None when they are not plain indexes)."""
    ids = [str(gpu) for gpu in ray.get_gpu_ids()]
    return [int(gpu) for gpu in ids] if all(gpu.isdigit() for gpu in ids) else None


def _pinned() -> list[int] | None:
    """The CPUs this worker is pinned to, if it is pinned at all (Ray does not by default)."""
    cpus = sorted(os.sched_getaffinity(0))
    return cpus if len(cpus) < (os.cpu_count() or len(cpus)) else None


def _died(exc: BaseException) -> str:
    """Ray's reason, without its lines of ids."""
    noise = ("class_name:", "actor_id:", "namespace:", "pid:", "ip:")
    lines = [line.strip() for line in str(exc).splitlines()]
    reason = " ".join(line for line in lines if line and not line.startswith(noise))
    return "the Ray worker running this training died: %s" % reason[:600]


class RayExecution:
    """The server's side of one training on Ray: polls it and copies its log home."""

    def __init__(self, actor: Any, launch: Launch, cgroups: bool,
                 capacity: RayCapacity) -> None:
        self._actor = actor
        self._launch = launch
        self._cgroups = cgroups
        self._capacity = capacity
        self._pid: int | None = None
        self._placement = launch.placement
        self._reports: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._outcome: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._poller = asyncio.create_task(self._follow(), name="ray-" + launch.job_id)

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def placement(self) -> Placement | None:
        """Where the training runs: its node, site and GPUs once the actor said (its CPUs
        when the node pins them)."""
        return self._placement

    async def _follow(self) -> None:
        try:
            outcome = await self._poll_until_done()
        except RayActorError as exc:
            outcome = Outcome(False, message=_died(exc))
        except RayError as exc:
            outcome = Outcome(False, message="could not run on Ray: %s" % exc)
        self._reports.put_nowait(None)
        self._outcome.set_result(outcome)

    async def _poll_until_done(self) -> Outcome:
        remote = pack(self._launch.kwargs)
        info = await self._actor.start.remote({
            "job_id": self._launch.job_id, "name": self._launch.name,
            "source": self._launch.source, "kwargs": remote, "warm": self._launch.warm,
            "grace": self._launch.grace, "cgroups": self._cgroups,
            "memory": self._launch.asked.memory})
        self._pid = info["pid"]
        self._placement = self._capacity.placed(self._launch.job_id, Placement(
            info["node"], self._launch.asked.site or "", _ids(info["cpus"]), _ids(info["gpus"]),
            self._launch.asked.memory))
        LOG.info("training %s runs on Ray node %s (pid %s)", self._launch.job_id, info["node"],
                 self._pid)
        seen, offset = 0, 0
        with open(self._launch.log_path, "ab") as log:
            while True:
                reply = await self._actor.poll.remote(seen, offset)
                log.write(reply["log"])
                log.flush()
                offset += len(reply["log"])
                for report in reply["reports"]:
                    self._reports.put_nowait(report)
                seen += len(reply["reports"])
                if reply["outcome"] is not None:
                    return Outcome(**reply["outcome"])
                if not reply["log"]:
                    await asyncio.sleep(_POLL)

    async def reports(self) -> AsyncIterator[dict[str, Any]]:
        while (report := await self._reports.get()) is not None:
            yield report

    async def wait(self) -> Outcome:
        outcome = await asyncio.shield(self._outcome)
        if self._launch.output_dir is not None and self._pid is not None:
            try:
                await self._bring_home(self._launch.output_dir)
            except RayError as exc:
                LOG.error("training %s: its outputs could not be fetched from its Ray "
                          "node: %s", self._launch.job_id, exc)
        with contextlib.suppress(RayError, asyncio.TimeoutError):
            await asyncio.wait_for(self._actor.cleanup.remote(), 10)
        ray.kill(self._actor)
        return outcome

    async def _bring_home(self, folder: Path) -> None:
        """Copy what the training wrote to its output dir on the node into ``folder``."""
        for name, data in (await self._actor.outputs.remote()).items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(target.write_bytes, data)

    async def terminate(self, grace: float) -> None:
        """Stop the training's processes on its node, then kill the actor: nothing of it
        survives."""
        if self._pid is not None:
            with contextlib.suppress(RayError, asyncio.TimeoutError):
                await asyncio.wait_for(self._actor.terminate.remote(grace), grace + 10)
            # Let the last polls bring the log home before the actor goes.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._outcome), 4 * _POLL + 1)
            with contextlib.suppress(RayError, asyncio.TimeoutError):
                await asyncio.wait_for(self._actor.cleanup.remote(), 5)
        ray.kill(self._actor)
        await asyncio.shield(self._outcome)


def _ids(ids: list[int] | None) -> tuple[int, ...] | None:
    return tuple(ids) if ids is not None else None


@dataclasses.dataclass
class RayExecutor:
    """Starts each training as an actor with the resources it asks for (``DEEPaaS-Resources``,
    else its module's, else the server's): Ray reserves them on a node of its site."""

    connection: RayConnection
    wants_resources = True
    cpus: float = 1.0
    gpus: float = 0.0
    memory: int = 0
    #: Whether a training gets a cgroup v2 of its own on its node, where the node allows it.
    cgroups: bool = True
    #: The cluster's nodes as the manager sees them: read once :meth:`open` returned.
    capacity: RayCapacity = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.capacity = RayCapacity(self.cpus, self.gpus, self.memory)

    async def open(self) -> None:
        await self.connection.open()
        await self.capacity.open()

    async def close(self) -> None:
        await self.capacity.close()
        await self.connection.close()

    async def start(self, launch: Launch) -> Execution:
        # A module's own declaration may say what a header cannot (cpus=0.5): it stays
        # below what the training asked for.
        options = asked_options(launch.asked, resources(launch.resources, self.cpus,
                                                        self.gpus, self.memory))
        actor_class = ray.remote(TrainingActor)
        actor = actor_class.options(
            name="deepaas-train-" + launch.job_id, max_restarts=0, **options).remote()
        return RayExecution(actor, launch, self.cgroups, self.capacity)

    def kill_leftovers(self, job_ids: Iterable[str]) -> None:
        """Actors belong to the server that made them: Ray ended them when it died."""

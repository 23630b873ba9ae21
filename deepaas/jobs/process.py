"""Training processes: start one in its own process group, read its progress reports, wait
for it, and stop it for real."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import pickle
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from deepaas import ENV_DATA_DIR
from deepaas.files import owned_prefix
from deepaas.jobs import limits, tracking
from deepaas.jobs.tracking import kill_leftovers, processes_of
from deepaas.lifeline import ENV_SERVER_PID
from deepaas.progress import ENV_FD, ENV_JOB_ID, ENV_OUTPUT_DIR
from deepaas.resources.placement import Placement
from deepaas.resources.request import Resources

__all__ = ["Launch", "Outcome", "TrainingProcess", "start", "kill_leftovers", "processes_of"]

LOG = logging.getLogger(__name__)
_MAX_REPORT = 64 * 1024
_POLL = 0.05  # seconds between looks at what of a stopping training still runs
_KILL_WAIT = 5.0  # how long SIGKILLed processes get to go (one in uninterruptible I/O waits)


@dataclasses.dataclass(frozen=True)
class Launch:
    """Everything a training process needs to know."""

    job_id: str
    name: str
    source: str
    kwargs: dict[str, Any]
    warm: bool
    log_path: Path
    data_dir: Path
    tmp_dir: str | None = None
    #: What the module's metadata asks for (``cpus``, ``gpus``, ``memory``); Ray reads it.
    resources: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Where the training writes what it produces (``deepaas.progress.output_dir()``).
    output_dir: Path | None = None
    #: Seconds what the training leaves running gets between SIGTERM and SIGKILL at its end.
    grace: float = 5.0
    #: What the training asked for (header, over the module's declaration, over the server's
    #: --train-resources) and, on this machine, what it was given: its CPU and GPU ids and
    #: its memory limit (None: placed by the executor itself, as Ray does).
    asked: Resources = dataclasses.field(default_factory=Resources)
    placement: Placement | None = None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a training process ended."""

    ok: bool
    output: Any = None
    message: str | None = None


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class TrainingProcess:
    """A running ``deepaas.jobs.child``: the leader of its own process group, and of every
    process it starts (its :class:`~deepaas.jobs.tracking.Tracker` finds them), under the
    memory limit ``enforced`` says (:mod:`deepaas.jobs.limits`)."""

    def __init__(self, proc: asyncio.subprocess.Process, result_path: Path,
                 reports: asyncio.StreamReader, transport: asyncio.BaseTransport,
                 tracker: tracking.Tracker, grace: float,
                 enforced: limits.Enforced | None = None, log_path: Path | None = None
                 ) -> None:
        self._enforced = enforced or limits.Enforced()
        self._log_path = log_path
        self._proc = proc
        self._result_path = result_path
        self._reports = reports
        self._transport = transport
        self._tracker = tracker
        self._grace = grace
        self._ending: asyncio.Future[None] | None = None
        self._group_gone = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    async def reports(self) -> AsyncIterator[dict[str, Any]]:
        """Progress reports as the training sends them, until it ends."""
        while True:
            try:
                line = await self._reports.readline()
            except (ValueError, asyncio.LimitOverrunError):  # an absurdly long line
                continue
            if not line:
                return
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    yield record

    async def wait(self) -> Outcome:
        """Wait for the process to end, stop whatever it left running, read its outcome."""
        code = await self._proc.wait()
        overrun = self._enforced.overrun()  # read before the sweep removes its cgroup
        await self._end_all(self._grace)  # a process it left behind may hold the reports pipe
        self._transport.close()
        if overrun is not None:  # killed by its cgroup: whatever it wrote is not the story
            self._result_path.unlink(missing_ok=True)
            self._say(overrun)
            return Outcome(False, message=overrun)
        try:
            data = json.loads(self._result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            reason = ("killed by signal %d" % -code) if code < 0 else "exit code %d" % code
            return Outcome(False, message="training process ended without a result (%s)" % reason)
        finally:
            self._result_path.unlink(missing_ok=True)
        if data.get("status") == "done":
            return Outcome(True, output=data.get("output"))
        return Outcome(False, message=str(data.get("message", "training failed")))

    def _say(self, line: str) -> None:
        """End the training's log with ``line``, as the training itself would have."""
        if self._log_path is not None:
            with contextlib.suppress(OSError), open(self._log_path, "a") as log:
                log.write("[deepaas] %s\n" % line)

    async def terminate(self, grace: float) -> None:
        """SIGTERM every process of the training, SIGKILL what is left after ``grace``
        seconds; return once the leader is gone."""
        await self._end_all(grace)
        await self._proc.wait()

    async def _end_all(self, grace: float) -> None:
        """The one sweep of a training, started by its end or a stop, whichever comes first
        (the other joins it)."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._sweep(grace))
        await asyncio.shield(self._ending)

    async def _sweep(self, grace: float) -> None:
        began = time.monotonic()
        left = await self._signal(signal.SIGTERM)
        if left and not await self._gone(grace):
            LOG.warning("training %s: %d process(es) still running %.1f s after SIGTERM: "
                        "SIGKILL", self._tracker.job_id, len(await self._left()), grace)
            await self._signal(signal.SIGKILL)
            await self._gone(_KILL_WAIT)
        self._tracker.release()
        if left:
            LOG.info("training %s: stopped its processes (%s) in %.2f s",
                     self._tracker.job_id, self._tracker.kind, time.monotonic() - began)

    def _check_group(self) -> None:
        """Once the training's process group is seen empty its id may be reused by another
        program's group: it is never signalled again."""
        if not self._group_gone:
            try:
                os.killpg(self._proc.pid, 0)
            except ProcessLookupError:
                self._group_gone = True
            except PermissionError:  # it exists
                pass

    async def _left(self) -> list[int]:
        """The training's processes still running, its leader included until it is reaped."""
        self._check_group()
        found = await asyncio.to_thread(self._tracker.pids)  # scanning /proc takes a while
        running = self._proc.returncode is None and self._proc.pid not in found
        return found + [self._proc.pid] if running else found

    async def _signal(self, sig: int) -> list[int]:
        """Send ``sig`` to the group and every tracked process; answer those that ran."""
        self._check_group()
        if not self._group_gone:
            _kill_group(self._proc.pid, sig)
        left = await self._left()
        if sig == signal.SIGKILL:
            await asyncio.to_thread(self._tracker.kill)
        else:
            tracking.signal_all(left, sig)
        return left

    async def _gone(self, timeout: float) -> bool:
        """Wait until nothing of the training runs; False when ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while await self._left():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL)
        return True


def _environment(launch: Launch, report_fd: int, by_cgroup: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(limits.environment(launch.placement, by_cgroup))
    env.update({ENV_JOB_ID: launch.job_id, ENV_DATA_DIR: str(launch.data_dir.resolve()),
                ENV_FD: str(report_fd), ENV_SERVER_PID: str(os.getpid()),
                # the module's prints reach its log as they happen, not when a buffer fills
                "PYTHONUNBUFFERED": "1"})
    if launch.output_dir is not None:
        env[ENV_OUTPUT_DIR] = str(launch.output_dir.resolve())
    return env


def _limits_memory(launch: Launch) -> bool:
    return launch.placement is not None and launch.placement.memory is not None


def _own_cgroup(tracker: tracking.Tracker, by_cgroup: bool) -> Path | None:
    """The training's cgroup, where it got one and its memory.max can be set."""
    return tracker.path if by_cgroup and isinstance(tracker, tracking.CgroupTracker) else None


async def _abandon(proc: asyncio.subprocess.Process, tracker: tracking.Tracker,
                   result_path: Path, read_fd: int) -> None:
    """Undo a start that cannot go on (the process has run none of the module's code)."""
    _kill_group(proc.pid, signal.SIGKILL)
    if proc.stdin is not None:
        proc.stdin.close()
    await proc.wait()
    tracker.release()
    result_path.unlink(missing_ok=True)
    os.close(read_fd)


async def _open_reports(read_fd: int) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_MAX_REPORT)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0))
    return reader, transport


async def start(launch: Launch, cgroups: Path | None = None) -> TrainingProcess:
    """Start ``train(**kwargs)`` of the module at ``launch.source`` in a new process group
    (and a cgroup of its own under ``cgroups``, :func:`deepaas.jobs.tracking.cgroup_home`).

    Its stdout and stderr (and those of anything it starts) go to ``launch.log_path``; its
    progress reports come back through a pipe; its outcome through a temp file.
    """
    fd, path = tempfile.mkstemp(prefix=owned_prefix("train"), suffix=".json",
                                dir=launch.tmp_dir)
    os.close(fd)
    result_path = Path(path)
    read_fd, write_fd = os.pipe()
    request = pickle.dumps({"name": launch.name, "source": launch.source,
                            "kwargs": launch.kwargs, "warm": launch.warm})
    by_cgroup = _limits_memory(launch) and limits.cgroup_memory(cgroups)
    try:
        with open(launch.log_path, "ab") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "deepaas.jobs.child", str(result_path),
                stdin=asyncio.subprocess.PIPE, stdout=log, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True, pass_fds=(write_fd,),
                env=_environment(launch, write_fd, by_cgroup))
    except BaseException:
        result_path.unlink(missing_ok=True)
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    # In its cgroup, pinned and limited before it reads its request, so before it can start
    # anything (which inherits all three) or run any of the module's code.
    tracker = tracking.track(launch.job_id, proc.pid, cgroups)
    try:
        enforced = limits.apply(proc.pid, launch.placement, _own_cgroup(tracker, by_cgroup))
    except OSError:
        await _abandon(proc, tracker, result_path, read_fd)
        raise
    reports, transport = await _open_reports(read_fd)
    assert proc.stdin is not None
    proc.stdin.write(request)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        await proc.stdin.drain()
    proc.stdin.close()
    return TrainingProcess(proc, result_path, reports, transport, tracker, launch.grace,
                           enforced, launch.log_path)

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
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from deepaas import ENV_DATA_DIR
from deepaas.lifeline import ENV_SERVER_PID
from deepaas.progress import ENV_FD, ENV_JOB_ID, ENV_OUTPUT_DIR

__all__ = ["Launch", "Outcome", "TrainingProcess", "start", "kill_leftovers", "processes_of"]

LOG = logging.getLogger(__name__)
_MAX_REPORT = 64 * 1024


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
    """A running ``deepaas.jobs.child``: the leader of its own process group."""

    def __init__(self, proc: asyncio.subprocess.Process, result_path: Path,
                 reports: asyncio.StreamReader, transport: asyncio.BaseTransport) -> None:
        self._proc = proc
        self._result_path = result_path
        self._reports = reports
        self._transport = transport

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
        """Wait for the process to end, then clean up its group and read its outcome."""
        code = await self._proc.wait()
        _kill_group(self._proc.pid, signal.SIGKILL)  # whatever the module left running
        self._transport.close()
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

    async def terminate(self, grace: float) -> None:
        """SIGTERM the whole group, SIGKILL it after ``grace`` seconds, wait for the leader."""
        if self._proc.returncode is None:
            _kill_group(self._proc.pid, signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._proc.wait()), grace)
        _kill_group(self._proc.pid, signal.SIGKILL)
        await self._proc.wait()


def _environment(launch: Launch, report_fd: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({ENV_JOB_ID: launch.job_id, ENV_DATA_DIR: str(launch.data_dir.resolve()),
                ENV_FD: str(report_fd), ENV_SERVER_PID: str(os.getpid()),
                # the module's prints reach its log as they happen, not when a buffer fills
                "PYTHONUNBUFFERED": "1"})
    if launch.output_dir is not None:
        env[ENV_OUTPUT_DIR] = str(launch.output_dir.resolve())
    return env


async def _open_reports(read_fd: int) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_MAX_REPORT)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0))
    return reader, transport


async def start(launch: Launch) -> TrainingProcess:
    """Start ``train(**kwargs)`` of the module at ``launch.source`` in a new process group.

    Its stdout and stderr (and those of anything it starts) go to ``launch.log_path``; its
    progress reports come back through a pipe; its outcome through a temp file.
    """
    fd, path = tempfile.mkstemp(prefix="deepaas-train-", suffix=".json", dir=launch.tmp_dir)
    os.close(fd)
    result_path = Path(path)
    read_fd, write_fd = os.pipe()
    request = pickle.dumps({"name": launch.name, "source": launch.source,
                            "kwargs": launch.kwargs, "warm": launch.warm})
    try:
        with open(launch.log_path, "ab") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "deepaas.jobs.child", str(result_path),
                stdin=asyncio.subprocess.PIPE, stdout=log, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True, pass_fds=(write_fd,), env=_environment(launch, write_fd))
    except BaseException:
        result_path.unlink(missing_ok=True)
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    reports, transport = await _open_reports(read_fd)
    assert proc.stdin is not None
    proc.stdin.write(request)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        await proc.stdin.drain()
    proc.stdin.close()
    return TrainingProcess(proc, result_path, reports, transport)


def _job_of(pid: str) -> str | None:
    try:
        environ = Path("/proc/%s/environ" % pid).read_bytes()
    except OSError:
        return None
    prefix = (ENV_JOB_ID + "=").encode()
    for item in environ.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix):].decode(errors="replace")
    return None


def processes_of(job_ids: Iterable[str]) -> list[int]:
    """Pids of the processes still running for ``job_ids``; Linux only (elsewhere none).

    A process is recognised by the job id in its environment, which every process a training
    starts inherits, so a reused pid of another program is never taken for one.
    """
    wanted = set(job_ids)
    if not wanted or not Path("/proc").is_dir():
        return []
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _job_of(entry.name) in wanted]


def kill_leftovers(job_ids: Iterable[str]) -> list[int]:
    """Kill processes still running for ``job_ids`` (after the server was killed)."""
    killed = list[int]()
    for pid in processes_of(job_ids):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    if killed:
        LOG.warning("killed %d process(es) left over from interrupted trainings", len(killed))
    return killed

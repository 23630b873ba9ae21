"""Training processes: start one in its own process group, wait for it, stop it for real."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import pickle
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["Outcome", "TrainingProcess", "start"]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a training process ended."""

    ok: bool
    output: Any = None
    message: str | None = None


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class TrainingProcess:
    """A running ``deepaas.jobs.child``: the leader of its own process group."""

    def __init__(self, proc: asyncio.subprocess.Process, result_path: Path) -> None:
        self._proc = proc
        self._result_path = result_path

    @property
    def pid(self) -> int:
        return self._proc.pid

    async def wait(self) -> Outcome:
        """Wait for the process to end, then clean up its group and read its outcome."""
        code = await self._proc.wait()
        _kill_group(self._proc.pid, signal.SIGKILL)  # whatever the module left running
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
            try:
                await asyncio.wait_for(asyncio.shield(self._proc.wait()), grace)
            except asyncio.TimeoutError:
                pass
        _kill_group(self._proc.pid, signal.SIGKILL)
        await self._proc.wait()


async def start(
    name: str, source: str, kwargs: dict[str, Any], warm: bool, tmp_dir: str | None = None
) -> TrainingProcess:
    """Start ``train(**kwargs)`` of the module at ``source`` in a new process group.

    The outcome comes back through a temp file (removed once read), so that the module's own
    stdout and stderr stay free for its logs.
    """
    fd, path = tempfile.mkstemp(prefix="deepaas-train-", suffix=".json", dir=tmp_dir)
    os.close(fd)
    result_path = Path(path)
    request = pickle.dumps({"name": name, "source": source, "kwargs": kwargs, "warm": warm})
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "deepaas.jobs.child", str(result_path),
            stdin=asyncio.subprocess.PIPE, start_new_session=True)
    except BaseException:
        result_path.unlink(missing_ok=True)
        raise
    assert proc.stdin is not None
    proc.stdin.write(request)
    try:
        await proc.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass
    proc.stdin.close()
    return TrainingProcess(proc, result_path)

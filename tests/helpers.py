"""Small helpers the HTTP and process tests share."""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from pathlib import Path
from typing import Any

#: This repository: ``tests.models`` is importable from it.
REPO = str(Path(__file__).resolve().parents[1])


async def poll_job(client: Any, url: str, uuid: str, timeout: float = 30.0) -> dict[str, Any]:
    """GET ``url + uuid`` until the training is no longer running; answer its record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = await client.get(url + uuid)
        assert resp.status == 200, await resp.text()
        job = await resp.json()
        if job["status"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("training %s still running after %ss" % (uuid, timeout))


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (a zombie runs nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path("/proc/%d/stat" % pid).read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def wait_file(path: Path, timeout: float = 20.0, allow_empty: bool = False) -> None:
    """Wait until a training wrote something to ``path`` (or, ``allow_empty``, made it)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and (allow_empty or path.stat().st_size)):
        assert time.monotonic() < deadline, "training never wrote %s" % path
        await asyncio.sleep(0.05)


async def eventually(check: Any, what: str = "the condition", timeout: float = 10.0,
                     every: float = 0.01) -> Any:
    """Call ``check()`` (plain or a coroutine function) until it answers something true,
    and answer that; fail saying ``what`` never came within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        assert time.monotonic() < deadline, "timed out waiting for " + what
        await asyncio.sleep(every)


def installed_models(root: Path, entries: dict[str, str],
                     name: str = "fake-models") -> dict[str, str]:
    """A distribution ``name`` made in ``root`` that declares ``entries`` (model name ->
    import reference) under ``deepaas.v2.model``, as pip would leave it; answers the
    environment of a process that sees it installed (``root``, then this repository, on its
    PYTHONPATH). Nothing is installed anywhere."""
    info = root / ("%s-0.1.dist-info" % name.replace("-", "_"))
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: 0.1\n" % name)
    lines = ["[deepaas.v2.model]"] + ["%s = %s" % pair for pair in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return {"PYTHONPATH": os.pathsep.join([str(root), REPO])}

"""What the benchmarks share: a fake module served without installing it, a free port."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp

__all__ = ["free_port", "module_dir", "serve", "wait_ready"]


def module_dir(root: Path, name: str, code: str) -> Path:
    """``root`` holding module ``name`` and an entry point for it: put it on PYTHONPATH and
    deepaas-run finds the model ``name`` (nothing is installed)."""
    root.mkdir()
    (root / ("%s.py" % name)).write_text(textwrap.dedent(code))
    info = root / ("%s-0.1.dist-info" % name)
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: 0.1\n" % name)
    (info / "entry_points.txt").write_text("[deepaas.v2.model]\n%s = %s\n" % (name, name))
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(root: Path, model: str, data_dir: Path, *flags: str) -> tuple[subprocess.Popen, str]:
    """A deepaas-run serving ``model`` from ``root`` (see :func:`module_dir`) on a free port,
    quiet; answers the process and its base URL."""
    port = free_port()
    exe = Path(sys.executable).with_name("deepaas-run")
    proc = subprocess.Popen([str(exe), "--listen-port", str(port), "--model-name", model,
                             "--data-dir", str(data_dir), "--log-level", "WARNING", *flags],
                            env={**os.environ, "PYTHONPATH": str(root)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, "http://127.0.0.1:%d" % port


async def wait_ready(session: aiohttp.ClientSession, base: str, timeout: float = 20.0) -> None:
    """Until the server at ``base`` says every model is warm."""
    for _ in range(int(timeout / 0.05)):
        try:
            async with session.get(base + "/v2/health/ready") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("server did not start")

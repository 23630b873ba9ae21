"""A real deepaas-run for the browser tests: started on a free port, ready, then stopped."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["deepaas_run", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def deepaas_run(data_dir: Path, *flags: str, env: dict[str, str] | None = None,
                deadline: float = 60.0) -> Iterator[str]:
    """``deepaas-run --data-dir DATA_DIR FLAGS...``, quiet; yields its base URL once
    ``/v2/health/ready`` answers, and stops it (SIGTERM) afterwards."""
    port = free_port()
    exe = Path(sys.executable).with_name("deepaas-run")
    proc = subprocess.Popen([str(exe), "--listen-port", str(port), "--data-dir", str(data_dir),
                             *flags], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port
    end = time.monotonic() + deadline
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/v2/health/ready", timeout=2).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < end, "no server"
                time.sleep(0.05)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

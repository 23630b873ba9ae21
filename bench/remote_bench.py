"""Remote file arguments: what the cache saves, measured against a real deepaas-run.

    .venv/bin/python bench/remote_bench.py [SIZE_MIB]

A dataset of SIZE_MIB (default 256) is served over HTTP on loopback (Python's http.server:
Content-Length and Last-Modified, so the cache validates by size and modification time).
The demo module's predict reads the whole file (it hashes it), so every timing includes that.
Printed: the first request (downloaded), the next three (from the cache), one after the file
changed (downloaded again), and the ratio of first to cached.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("did not start: " + url)


async def _timed(session: aiohttp.ClientSession, api: str, url: str) -> float:
    began = time.perf_counter()
    async with session.post(api, data={"data": url}) as resp:
        body = await resp.json()
        assert resp.status == 200, body
    return time.perf_counter() - began


async def _measure(api: str, url: str, dataset: Path) -> dict[str, float]:
    async with aiohttp.ClientSession() as session:
        first = await _timed(session, api, url)
        cached = [await _timed(session, api, url) for _ in range(3)]
        dataset.write_bytes(dataset.read_bytes()[::-1])  # same size, new content and mtime
        changed = await _timed(session, api, url)
    return {"first": first, "cached": statistics.median(cached), "changed": changed}


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    exe = Path(sys.executable).with_name("deepaas-run")
    with tempfile.TemporaryDirectory(prefix="deepaas-remote-bench-") as tmp:
        served = Path(tmp, "served")
        served.mkdir()
        dataset = served / "dataset.bin"
        dataset.write_bytes(os.urandom(size * 2**20))
        files_port, api_port = _port(), _port()
        files = subprocess.Popen([sys.executable, "-m", "http.server", str(files_port),
                                  "--bind", "127.0.0.1", "--directory", str(served)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = subprocess.Popen(
            [str(exe), "--listen-port", str(api_port), "--model-name", "demo",
             "--data-dir", str(Path(tmp, "data")), "--remote-data", "http://127.0.0.1:*",
             "--remote-private", "--remote-max-size", "4GiB", "--nometrics"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = "http://127.0.0.1:%d/dataset.bin" % files_port
            base = "http://127.0.0.1:%d" % api_port
            _wait(url)
            _wait(base + "/v2/health/ready")
            result = asyncio.run(_measure(base + "/v2/models/demo/predict/", url, dataset))
        finally:
            for proc in (server, files):
                proc.terminate()
                proc.wait(30)
    print("dataset %d MiB over HTTP on loopback, demo predict (reads the whole file)" % size)
    print("  first request (downloaded):      %6.3f s" % result["first"])
    print("  same URL again (cache, median):  %6.3f s" % result["cached"])
    print("  after the file changed (again):  %6.3f s" % result["changed"])
    print("  first / cached:                  %6.1fx" % (result["first"] / result["cached"]))


if __name__ == "__main__":
    main()

"""Fuzz a real ``deepaas-run`` serving the demo module with schemathesis.

The schemathesis CLI reads ``/openapi.json`` and sends a bounded, derandomized set of requests to
every operation (settings in ``schemathesis.toml`` next to this file). It fails on any 5xx the
framework gave (``hooks.py``; a module's own 500 is allowed when the message says so), on a
request that hangs or a dropped connection. Afterwards the server must still answer, leave no
temp file behind, and exit 0 on SIGTERM.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("schemathesis", reason="schemathesis is not installed")
pytest.importorskip("deepaas_demo", reason="the demo module (plugins/demo) is not installed")

HERE = Path(__file__).parent
DEEPAAS_RUN = Path(sys.executable).with_name("deepaas-run")
# Proxies from the environment must not see (or divert) requests meant for loopback.
PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]
    tmp_dir: Path
    log: Path

    def request(self, method: str, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def errors(self) -> str:
        """The server's log without access lines: the tracebacks of its 500s are there."""
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(line for line in lines if " aiohttp.access: " not in line)[-20000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environ(**extra: str) -> dict[str, str]:
    # No DEEPAAS_* setting (an API key, another model) or proxy of the caller's may leak in.
    return {key: value for key, value in os.environ.items()
            if not key.startswith("DEEPAAS_") and key.lower() not in PROXY_VARS} | extra


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail("deepaas-run exited %s at start:\n%s"
                        % (server.proc.returncode, server.log.read_text()))
        try:
            if server.request("GET", "/v2/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail("deepaas-run did not answer GET /v2/ within 30 s:\n" + server.log.read_text())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if not DEEPAAS_RUN.exists():
        pytest.skip("no deepaas-run next to %s" % sys.executable)
    tmp_dir, port = tmp_path / "tmp", _free_port()
    tmp_dir.mkdir()
    command = [str(DEEPAAS_RUN), "--model-name", "demo", "--listen-ip", "127.0.0.1",
               "--listen-port", str(port), "--data-dir", str(tmp_path / "data"),
               "--tmp-dir", str(tmp_dir), "--cancel-grace", "1"]
    log = tmp_path / "server.log"
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                cwd=tmp_path, env=_environ())
    server = Server(port, proc, tmp_dir, log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        if proc.poll() is None:  # the test failed before it stopped the server itself
            proc.kill()
            proc.wait()


def _fuzz(server: Server, workdir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "schemathesis.cli",
               "--config-file", str(HERE / "schemathesis.toml"),
               "run", "http://127.0.0.1:%d/openapi.json" % server.port, "--no-color"]
    env = _environ(SCHEMATHESIS_HOOKS=str(HERE / "hooks.py"))
    # cwd: schemathesis writes .hypothesis/ and .schemathesis/ there. The timeout stays under
    # pytest-timeout's 120 s so that a hung run fails with its own message.
    return subprocess.run(command, capture_output=True, text=True, cwd=workdir, env=env,
                          timeout=100)


def _cancel_trainings(server: Server) -> None:
    """Cancel what the fuzzer left running or waiting: a running training keeps a temp file."""
    status, body = server.request("GET", "/v2/models/demo/train/?status=running")
    assert status == 200, body
    for job in json.loads(body):
        status, body = server.request("DELETE", "/v2/models/demo/train/%s" % job["uuid"])
        assert status == 200, body


def _leftovers(tmp_dir: Path, grace: float = 5.0) -> list[str]:
    deadline = time.monotonic() + grace
    while (names := sorted(p.name for p in tmp_dir.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.1)
    return names


def test_fuzz_the_api(server: Server, tmp_path: Path) -> None:
    result = _fuzz(server, tmp_path)
    failed = result.returncode != 0  # failures, errors (hangs, dropped connections) or bad config
    assert not failed, "schemathesis exited %d:\n%s\n%s\n--- server log ---\n%s" % (
        result.returncode, result.stdout[-20000:], result.stderr[-5000:], server.errors())

    assert server.proc.poll() is None, "the server died:\n" + server.errors()
    assert server.request("GET", "/v2/")[0] == 200
    _cancel_trainings(server)
    assert _leftovers(server.tmp_dir) == [], "temp files left behind"

    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0, server.errors()
    assert _leftovers(server.tmp_dir, grace=0) == [], "temp files left behind at exit"

"""Requests aiohttp cannot parse, sent to a real ``deepaas-run``: one access line each, at
most ten a second with a count of the rest, never a traceback; the server goes on serving."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from deepaas.api.access import REJECTED_PER_SECOND
from tests.cmd.test_run import BIN, _free_port

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="deepaas-run is not installed")

GARBAGE = b"GARBAGE\r\n\r\n"
HALF_VALID = b"GET /v2/models/x HTTP/1.1 zzzz\r\n\r\n"  # a request line with a stray word


def _send(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        answer = b""
        while chunk := conn.recv(4096):  # aiohttp closes the connection after its 400
            answer += chunk
    return answer


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status


def test_malformed_requests_are_bounded_access_lines_not_tracebacks(tmp_path: Path):
    port = _free_port()
    # a file, not a pipe: a flood of tracebacks into a pipe nobody reads stops the server
    log = tmp_path / "out.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(BIN), "--listen-port", str(port), "--data-dir",
                                 str(tmp_path / "data"), "--model-name", "compatmod"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        base = "http://127.0.0.1:%d" % port
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(base + "/v2/")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        began = time.monotonic()
        for _ in range(100):
            for data in (GARBAGE, HALF_VALID):
                assert _send(port, data).startswith(b"HTTP/1.0 400 ")
        took = time.monotonic() - began
        assert _get(base + "/v2/health/live") == 200  # still serving
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text and "ERROR" not in text, text[:3000]
    rejected = [line for line in text.splitlines() if " rejected=" in line]
    assert rejected, text
    assert rejected[0].split(" INFO aiohttp.access: ")[1].startswith('127.0.0.1 "-" 400 ')
    assert any("b'GARBAGE'" in line for line in rejected)
    assert any("b'GET /v2/models/x HTTP/1.1 zzzz'" in line for line in rejected)
    untold = [int(n) for n in re.findall(r"WARNING aiohttp\.access: (\d+) more malformed "
                                         r"requests were not logged", text)]
    # every request is a line or counted; at most ten lines a window, a window a second
    assert len(rejected) + sum(untold) == 200
    assert len(rejected) <= REJECTED_PER_SECOND * (int(took) + 2)

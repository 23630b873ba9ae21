"""deepaas-run as a real process: banner, serving, clean stops, start-up failures."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from deepaas.cmd import run
from tests.model.test_loading import install

BIN = Path(sys.executable).with_name("deepaas-run")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def _start(data_dir: Path, *args: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([str(BIN), "--listen-port", str(port), "--data-dir", str(data_dir),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            _get(base + "/v2/")
            return proc, base
        except OSError:
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("deepaas-run did not start: " + proc.stdout.read())


def _stop(proc: subprocess.Popen, sig: int) -> tuple[int, float]:
    began = time.monotonic()
    proc.send_signal(sig)
    code = proc.wait(timeout=15)
    return code, time.monotonic() - began


pytestmark = pytest.mark.skipif(not BIN.exists(), reason="deepaas-run is not installed")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_and_stops_cleanly_on_signal(sig, tmp_path):
    proc, base = _start(tmp_path, "--model-name", "compatmod")
    try:
        status, body = _get(base + "/v2/models/")
        assert status == 200
        assert [m["name"] for m in json.loads(body)["models"]] == ["compatmod"]
    finally:
        code, took = _stop(proc, sig)
    out = proc.stdout.read()
    assert code == 0, out
    assert took < 5
    assert "%s/api" % base in out and "%s/swagger.json" % base in out and "%s/v2/" % base in out


def test_sigterm_stops_running_trainings(tmp_path):
    proc, base = _start(tmp_path, "--model-name", "compatmod", "--cancel-grace", "1")
    try:
        req = urllib.request.Request(base + "/v2/models/compatmod/train/?sleep=60", method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read())["status"] == "running"
        children = _children(proc.pid)
        assert children, "no training process was started"
    finally:
        code, _ = _stop(proc, signal.SIGTERM)
    assert code == 0
    time.sleep(0.2)
    assert not [pid for pid in children if Path("/proc/%d" % pid).exists()
                and "Z" not in Path("/proc/%d/stat" % pid).read_text().split(")")[-1][:3]]


def _children(pid: int) -> list[int]:
    found = []
    for _ in range(50):
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().split(")")[-1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
        if found:
            return found
        time.sleep(0.1)
    return found


def test_unknown_model_name_exits_non_zero():
    proc = subprocess.run([str(BIN), "--model-name", "definitely-not-installed"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "definitely-not-installed" in proc.stderr and "installed:" in proc.stderr


def test_bad_flag_value_exits_2():
    proc = subprocess.run([str(BIN), "--listen-port", "notaport"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "listen-port" in proc.stderr


def test_no_models_and_broken_named_model(tmp_path, monkeypatch, capsys):
    install(tmp_path, monkeypatch, {})
    assert run.main(["--data-dir", str(tmp_path / "data")]) == 1
    assert 'entry-points."deepaas.v2.model"' in capsys.readouterr().err
    install(tmp_path / "b", monkeypatch, {"broken": "tests.models.broken"})
    assert run.main(["--model-name", "broken", "--data-dir", str(tmp_path / "data")]) == 1
    assert "broken on purpose" in capsys.readouterr().err


def test_failing_warm_exits_with_the_model_named(tmp_path, monkeypatch, capsys):
    install(tmp_path, monkeypatch, {"coldfail": "tests.models.coldfail"})
    assert run.main(["--listen-port", "0", "--data-dir", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert "coldfail" in err and "weights not found" in err

"""deepaas-run as a real process: banner, serving, clean stops, start-up failures."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from deepaas.cmd import run
from deepaas.files import owned_prefix
from tests.helpers import alive, installed_models
from tests.model.test_loading import install

BIN = Path(sys.executable).with_name("deepaas-run")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def _start(data_dir: Path, *args: str, env: dict[str, str] | None = None
           ) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([str(BIN), "--listen-port", str(port), "--data-dir", str(data_dir),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
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
    assert 'aiohttp.access: 127.0.0.1 "GET /v2/models/" 200' in out  # flushed at the stop
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
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in children)


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


def test_unknown_model_name_exits_non_zero(tmp_path):
    # port 0: no address check, which would fail first wherever 5000 is busy; a data folder
    # of its own, since ./deepaas-data may be a running server's
    proc = subprocess.run([str(BIN), "--model-name", "definitely-not-installed",
                           "--listen-port", "0", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "definitely-not-installed" in proc.stderr and "installed:" in proc.stderr


@pytest.mark.parametrize("flags, env", [
    (["--api-key", ""], {}),
    ([], {"DEEPAAS_API_KEYS": " , "}),
])
def test_an_empty_api_key_stops_the_start_with_one_line(flags, env):
    # a server that meant to require keys must not start open
    proc = subprocess.run([str(BIN), "--listen-port", "0", *flags], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "deepaas-run: %s: invalid value (hidden) for --api-key: an API key may not be empty "
        "(to run without keys, leave the option out)"
        % ("command line" if flags else "environment")]


def test_bad_flag_value_exits_2():
    proc = subprocess.run([str(BIN), "--listen-port", "notaport"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "listen-port" in proc.stderr


@pytest.mark.parametrize("value, key", [
    ("memory=1e400", "memory"), ("cpus=" + "9" * 5000, "cpus"),
    ("memory=" + "9" * 5000 + "B", "memory")])
def test_absurd_train_resources_exit_2_with_one_short_line(value, key, tmp_path):
    proc = subprocess.run([str(BIN), "--train-resources", value, "--listen-port", "0",
                           "--data-dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=60)
    (line,) = proc.stderr.splitlines()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--train-resources: %s: " % key in line and len(line) < 400


def test_no_models_and_broken_named_model(tmp_path, monkeypatch, capsys):
    install(tmp_path, monkeypatch, {})
    assert run.main(["--listen-port", "0", "--data-dir", str(tmp_path / "data")]) == 1
    assert 'entry-points."deepaas.v2.model"' in capsys.readouterr().err
    install(tmp_path / "b", monkeypatch, {"broken": "tests.models.broken"})
    assert run.main(["--model-name", "broken", "--listen-port", "0",
                     "--data-dir", str(tmp_path / "data")]) == 1
    assert "broken on purpose" in capsys.readouterr().err


def test_failing_warm_exits_with_the_model_named(tmp_path, monkeypatch, capsys):
    install(tmp_path, monkeypatch, {"coldfail": "tests.models.coldfail"})
    assert run.main(["--listen-port", "0", "--data-dir", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert "coldfail" in err and "weights not found" in err


def _post(url: str) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10) as resp:
        return json.loads(resp.read())


def test_kill_9_loses_no_record_and_leaves_no_process(tmp_path):
    proc, base = _start(tmp_path, "--model-name", "compatmod", "--trainings-per-model", "4")
    train = base + "/v2/models/compatmod/train/"
    try:
        done = _post(train + "?epochs=7")
        deadline = time.monotonic() + 20
        while json.loads(_get(train + done["uuid"])[1])["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        slow = [_post(train + "?sleep=60")["uuid"] for _ in range(9)]
        children = _children(proc.pid)
        deadline = time.monotonic() + 20
        while len(children) < 4 and time.monotonic() < deadline:  # four run, five wait
            time.sleep(0.1)
            children = _children(proc.pid)
        assert len(children) == 4
    finally:
        proc.kill()
        proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in children), "trainings outlived a killed server"

    proc, base = _start(tmp_path, "--model-name", "compatmod")
    train = base + "/v2/models/compatmod/train/"
    try:
        jobs = {j["uuid"]: j for j in json.loads(_get(train)[1])}
        assert len(jobs) == 10
        assert jobs[done["uuid"]]["status"] == "done"
        assert jobs[done["uuid"]]["result"]["output"] == {"epochs": 7, "loss": 0.1}
        messages = sorted(jobs[u]["message"] for u in slow)
        assert [jobs[u]["status"] for u in slow] == ["error"] * 9
        assert messages.count("the server stopped while this training was running") == 4
        assert messages.count("the server stopped before this training started") == 5
        status, _ = _get(train + slow[0] + "/logs")
        assert status == 200
    finally:
        _stop(proc, signal.SIGTERM)



# Each call leaves a file in TEST_MARKS as it starts: the test knows when they are in flight.
SLOW = """
import asyncio, os, uuid
from webargs import fields
def get_predict_args():
    return {"delay": fields.Float(load_default=1.5)}
async def predict(**kwargs):
    open(os.path.join(os.environ["TEST_MARKS"], uuid.uuid4().hex), "w").close()
    await asyncio.sleep(kwargs["delay"])
    return {"slept": kwargs["delay"]}
"""


def _slow_server(tmp_path: Path) -> tuple[subprocess.Popen, str, Path]:
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**_fake_modules(tmp_path / "mods", {"slowpoke": SLOW}), "TEST_MARKS": str(marks)}
    proc, base = _start(tmp_path, "--model-name", "slowpoke", env=env)
    return proc, base, marks


def _in_flight(marks: Path, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(list(marks.iterdir())) < count:
        assert time.monotonic() < deadline, "never %d predictions in flight" % count
        time.sleep(0.02)


def _fake_modules(root: Path, modules: dict[str, str]) -> dict[str, str]:
    """Modules importable from ``root`` with entry points, for a server started with the
    returned environment (nothing is installed)."""
    installed_models(root, {name: name for name in modules}, "fake-served")
    for name, code in modules.items():
        (root / ("%s.py" % name)).write_text(code)
    return {"PYTHONPATH": str(root)}


def test_sigterm_lets_fifty_predictions_in_flight_finish(tmp_path):
    proc, base, marks = _slow_server(tmp_path)
    url = base + "/v2/models/slowpoke/predict/"
    try:
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            answers = [pool.submit(_post, url) for _ in range(50)]
            _in_flight(marks, 50)
            proc.send_signal(signal.SIGTERM)
            results = [a.result(timeout=30) for a in answers]
        assert all(r["predictions"] == {"slept": 1.5} for r in results)
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()  # a no-op once it exited; never leave a server behind


def _stopping(base: str) -> None:
    """Wait until the server began to stop: it takes no new connection."""
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(base + "/v2/health/live")
        except OSError:
            return
        assert time.monotonic() < deadline, "the server never began to stop"
        time.sleep(0.02)


def test_a_second_signal_exits_at_once(tmp_path):
    proc, base, marks = _slow_server(tmp_path)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        pool.submit(_post, base + "/v2/models/slowpoke/predict/?delay=30")
        _in_flight(marks, 1)
        proc.send_signal(signal.SIGTERM)
        _stopping(base)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
        assert code != 0 and time.monotonic() - began < 3
    finally:
        proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)


def test_temp_files_a_killed_server_left_are_removed_at_the_next_start(tmp_path):
    tmp_dir = tmp_path / "tmp"
    tmp_dir.mkdir()
    # a file of a live process (this one), and one deepaas did not name: both stay
    mine = tmp_dir / (owned_prefix("upload") + "mine")
    mine.write_bytes(b"in use")
    (tmp_dir / "deepaas-upload-abc123").write_bytes(b"old naming: whose is unknown")
    proc, base = _start(tmp_path / "data", "--model-name", "compatmod", "--tmp-dir", str(tmp_dir))
    try:
        # an upload that never ends: the server has made its temp file when it is killed
        port = int(base.rpartition(":")[2])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            head = (b'--B\r\nContent-Disposition: form-data; name="data"; filename="a.bin"\r\n'
                    b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 1000)
            sock.sendall(b"POST /v2/models/compatmod/predict/ HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: multipart/form-data; boundary=B\r\n"
                         b"Content-Length: 100000\r\n\r\n" + head)
            deadline = time.monotonic() + 20
            while not (left := [p for p in tmp_dir.iterdir() if p not in (
                    mine, tmp_dir / "deepaas-upload-abc123")]):
                assert time.monotonic() < deadline, "no upload file appeared"
                time.sleep(0.05)
            proc.kill()  # SIGKILL: no cleanup
            proc.wait(timeout=15)
    finally:
        killed = proc.pid
        proc.kill()
        proc.wait(timeout=15)
    # the killed server's upload, named for it
    assert [p.name.partition("_%d-" % killed)[0] for p in left] == [
        owned_prefix("upload").rpartition("_")[0]]
    proc, base = _start(tmp_path / "data", "--model-name", "compatmod", "--tmp-dir", str(tmp_dir))
    try:
        assert sorted(p.name for p in tmp_dir.iterdir()) == sorted(
            [mine.name, "deepaas-upload-abc123"])
    finally:
        _stop(proc, signal.SIGTERM)
        proc.stdout.read()

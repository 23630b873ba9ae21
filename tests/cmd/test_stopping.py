"""Stopping a real deepaas-run: every request in flight gets an answer, signals work with
nowhere to write, and nothing a training started outlives the server."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from deepaas.jobs import tracking
from tests.cmd.test_run import BIN, _fake_modules, _free_port, _get, _post, _start
from tests.helpers import alive

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="deepaas-run is not installed")

DETACHED = (Path(__file__).parents[1] / "models" / "detached.py").read_text()

# Each call leaves a file in MARKS as it starts, so the test knows when all are in flight.
MARKED = """
import asyncio, os, time, uuid
from webargs import fields
MARKS = os.environ["TEST_MARKS"]
def get_predict_args():
    return {"delay": fields.Float(load_default=1.0)}
def _mark():
    open(os.path.join(MARKS, uuid.uuid4().hex), "w").close()
%s
"""
SLEEPS = {
    "asleep": MARKED % ("async def predict(delay):\n    _mark()\n    await asyncio.sleep(delay)"
                        "\n    return {'slept': delay}"),
    # a synchronous predict runs in a thread, which nothing can stop
    "sleepy": MARKED % ("def predict(delay):\n    _mark()\n    time.sleep(delay)\n"
                        "    return {'slept': delay}"),
}

WAYS = [pytest.param("true", id="cgroup", marks=pytest.mark.skipif(
            tracking.cgroup_home() is None, reason="no writable cgroup v2 here")),
        pytest.param("false", id="job-id")]


def _wait_for(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never: " + what
        time.sleep(0.02)


def _answer(url: str) -> tuple[int | None, dict, str]:
    """Status, JSON body and Retry-After of a POST; None when no answer came at all."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"),
                                    timeout=60) as resp:
            return resp.status, json.loads(resp.read()), ""
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers.get("Retry-After", "")
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError):
        return None, {}, ""


@pytest.mark.parametrize("model", ["asleep", "sleepy"])
def test_every_request_in_flight_gets_an_answer_and_the_server_exits_in_time(tmp_path, model):
    timeout = 2.0
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**_fake_modules(tmp_path / "mods", SLEEPS), "TEST_MARKS": str(marks)}
    # 50 threads for the synchronous model too: all fifty run at once, as the async ones do
    proc, base = _start(tmp_path / "data", "--model-name", model, "--workers", "50",
                        "--shutdown-timeout", str(timeout), env=env)
    url = base + "/v2/models/%s/predict/?delay=" % model
    try:
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            # half finish within the timeout, half would run for a minute
            answers = [pool.submit(_answer, url + ("0.5" if i % 2 else "60")) for i in range(50)]
            _wait_for(lambda: len(list(marks.iterdir())) == 50, "fifty predictions running")
            began = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=timeout + 10)
            took = time.monotonic() - began
            results = [a.result(timeout=30) for a in answers]
    finally:
        proc.kill()  # a no-op once it exited; never leave a server behind
    statuses = [status for status, _, _ in results]
    print("%s: %d answered 200, %d answered 503, %d no answer; exit after %.2f s"
          % (model, statuses.count(200), statuses.count(503), statuses.count(None), took))
    assert code == 0
    assert statuses.count(200) == 25 and statuses.count(503) == 25, statuses
    assert all(body["predictions"] == {"slept": 0.5} for s, body, _ in results if s == 200)
    stopped = [(body, retry) for s, body, retry in results if s == 503]
    assert all(body == {"message": "the server is stopping"} and retry for body, retry in stopped)
    assert timeout <= took < timeout + 1, took


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_the_server_when_its_output_pipes_have_no_reader(tmp_path, sig):
    port = _free_port()
    proc = subprocess.Popen([str(BIN), "--listen-port", str(port), "--data-dir", str(tmp_path),
                             "--model-name", "compatmod"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = "http://127.0.0.1:%d" % port
    try:
        def up() -> bool:
            assert proc.poll() is None, "deepaas-run exited at start"
            try:
                return _get(base + "/v2/models/")[0] == 200  # an access line to write at stop
            except OSError:
                return False

        _wait_for(up, "deepaas-run serving")
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # whatever it writes from now on fails with EPIPE
        proc.stderr.close()
        began = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(timeout=15)
        took = time.monotonic() - began
    finally:
        proc.kill()
    assert code == 0 and took < 5, (code, took)


@pytest.mark.parametrize("cgroups", WAYS)
def test_a_graceful_stop_leaves_no_process_of_a_training_behind(tmp_path, cgroups):
    env = {**_fake_modules(tmp_path / "mods", {"detached": DETACHED}),
           "DEEPAAS_TRAINING_CGROUPS": cgroups}
    proc, base = _start(tmp_path / "data", "--model-name", "detached", "--cancel-grace", "1",
                        env=env)
    pidfile = tmp_path / "leftover"
    try:
        _post(base + "/v2/models/detached/train/?sleep=60&pidfile=%s" % pidfile)
        _wait_for(pidfile.exists, "the training's detached process")
        leftover = int(pidfile.read_text())
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        took = time.monotonic() - began
    finally:
        proc.kill()
    print("graceful stop (%s): exited after %.2f s" % (cgroups, took))
    assert code == 0
    assert not alive(leftover), "a training's process outlived the server"


@pytest.mark.parametrize("cgroups", WAYS)
def test_a_restart_after_kill_9_stops_what_a_training_left(tmp_path, cgroups):
    env = {**_fake_modules(tmp_path / "mods", {"detached": DETACHED}),
           "DEEPAAS_TRAINING_CGROUPS": cgroups}
    proc, base = _start(tmp_path / "data", "--model-name", "detached", env=env)
    pidfile = tmp_path / "leftover"
    try:
        _post(base + "/v2/models/detached/train/?sleep=60&pidfile=%s" % pidfile)
        _wait_for(pidfile.exists, "the training's detached process")
        leftover = int(pidfile.read_text())
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert alive(leftover)  # nothing stopped it: the server had no chance
    proc, base = _start(tmp_path / "data", "--model-name", "detached", env=env)
    try:
        _wait_for(lambda: not alive(leftover), "the leftover stopped", timeout=10)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)

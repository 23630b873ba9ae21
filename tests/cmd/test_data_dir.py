"""One data folder, one server, with real deepaas-run processes: a second server on the folder
is refused at once and changes nothing of the first one's work; a server on a folder of its
own, sharing the temp folder, keeps the first one's temp files; a killed server's folder is
free again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from deepaas.datadir import LOCK_FILE
from deepaas.files import owned_prefix
from tests.cmd.test_run import BIN, _children, _free_port, _get, _post, _start, _stop
from tests.helpers import alive, installed_models

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="deepaas-run is not installed")

TRAIN = "/v2/models/trainer/train/"
# A model whose import leaves a mark: a server that refused to start never imported it.
PROBE = "import os\nopen(os.environ['IMPORT_MARK'], 'a').close()\ndef predict(**kw):\n" \
        "    return {}\n"


def _env(root: Path) -> dict[str, str]:
    """trainer and gated (tests/models/) and probe, with their entry points."""
    env = installed_models(root, {"trainer": "tests.models.trainer",
                                  "gated": "tests.models.gated", "probe": "probe"})
    (root / "probe.py").write_text(PROBE)
    return {**env, "IMPORT_MARK": str(root / "probe-imported")}


def _json(url: str) -> Any:
    return json.loads(_get(url)[1])


def _wait_for(check: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never: " + what
        time.sleep(0.05)


def _gated_training(base: str, gate: Path) -> str:
    """A training that runs, waiting at ``gate``."""
    uuid = _post(base + TRAIN + "?gate=" + str(gate))["uuid"]
    _wait_for(lambda: "waiting at the gate" in _get(base + TRAIN + uuid + "/logs")[1].decode(),
              "the training waits at its gate")
    return uuid


def _ends_done(base: str, uuid: str) -> None:
    _wait_for(lambda: _json(base + TRAIN + uuid)["status"] != "running", "the training ended")
    assert _json(base + TRAIN + uuid)["status"] == "done"


def _deepaas_run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def test_a_second_server_on_the_folder_is_refused_and_the_first_ones_training_ends_done(
        tmp_path):
    env, data = _env(tmp_path / "mods"), tmp_path / "data"
    first, base = _start(data, "--model-name", "trainer", env=env)
    try:
        uuid = _gated_training(base, tmp_path / "gate")
        training = _children(first.pid)
        assert training, "no training process"

        second = _deepaas_run("--listen-port", str(_free_port()), "--data-dir", str(data),
                              "--model-name", "probe", env=env)
        assert second.returncode == 1
        assert second.stderr.splitlines() == [
            "deepaas-run: the data folder %s is in use by another deepaas-run (pid %d, %s); "
            "give this server a folder of its own with --data-dir"
            % (data.resolve(), first.pid, base)]
        assert second.stdout == ""  # no banner
        assert not (tmp_path / "mods" / "probe-imported").exists()  # refused before loading

        importing = _deepaas_run("--import-jobs", "--data-dir", str(data), env=env)
        assert importing.returncode == 1 and importing.stdout == ""
        assert importing.stderr.splitlines() == [
            "deepaas-run: the data folder %s is in use by another deepaas-run (pid %d, %s); "
            "stop it first: it writes into the same job store" % (data.resolve(), first.pid,
                                                                  base)]

        # the first server's training never noticed
        assert all(alive(pid) for pid in training)
        record = _json(base + TRAIN + uuid)
        assert record["status"] == "running" and "queued" not in record
        (tmp_path / "gate").touch()
        _ends_done(base, uuid)
    finally:
        code, _ = _stop(first, signal.SIGTERM)
    out = first.stdout.read()
    assert code == 0, out
    assert "interrupted" not in out and "left over" not in out
    assert (data / LOCK_FILE).read_text() == ""  # let go at the stop
    done = _deepaas_run("--import-jobs", "--data-dir", str(data), env=env)
    assert done.returncode == 0, done.stderr  # the folder is free again


def _upload(base: str, gate: Path, text: str) -> dict[str, Any]:
    """A prediction of gated with an upload, answered once ``gate`` exists."""
    body = ('--B\r\nContent-Disposition: form-data; name="data"; filename="a.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n%s\r\n--B--\r\n" % text).encode()
    req = urllib.request.Request(base + "/v2/models/gated/predict/?gate=" + str(gate),
                                 data=body, method="POST",
                                 headers={"Content-Type": "multipart/form-data; boundary=B"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def test_a_server_with_a_folder_of_its_own_keeps_the_first_ones_files(tmp_path):
    env, tmp_dir = _env(tmp_path / "mods"), tmp_path / "tmp"
    tmp_dir.mkdir()
    # what a process that is gone left: the second server's start removes it
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=30)
    orphan = tmp_dir / (owned_prefix("upload").replace("_%d-" % os.getpid(),
                                                       "_%d-" % gone.pid) + "left")
    first, base = _start(tmp_path / "a", "--model-name", "trainer", "--model-name", "gated",
                         "--tmp-dir", str(tmp_dir), env=env)
    answer: list[dict[str, Any]] = []
    asking = threading.Thread(target=lambda: answer.append(
        _upload(base, tmp_path / "predict-gate", "kept whole")))
    try:
        uuid = _gated_training(base, tmp_path / "gate")
        asking.start()
        _wait_for((tmp_path / "predict-gate.in").exists, "the prediction waits at its gate")
        uploads = sorted(p.name for p in tmp_dir.iterdir())
        assert uploads and all("_%d-" % first.pid in name for name in uploads)
        orphan.write_text("left by a kill -9")

        second, other = _start(tmp_path / "b", "--model-name", "trainer",
                               "--tmp-dir", str(tmp_dir), env=env)
        try:
            assert not orphan.exists()  # the second server swept the temp folder...
            assert sorted(p.name for p in tmp_dir.iterdir()) == uploads  # ...keeping these
            assert _json(other + TRAIN) == []  # and lists none of the first one's trainings
        finally:
            code, _ = _stop(second, signal.SIGTERM)
            assert code == 0, second.stdout.read()
        (tmp_path / "predict-gate").touch()
        asking.join(timeout=60)
        assert answer and answer[0]["predictions"] == {"n": 1, "text": "kept whole"}
        assert _json(base + TRAIN + uuid)["status"] == "running"
        (tmp_path / "gate").touch()
        _ends_done(base, uuid)
    finally:
        (tmp_path / "predict-gate").touch()
        if asking.ident is not None:
            asking.join(timeout=60)
        _stop(first, signal.SIGTERM)
        first.stdout.read()


def test_a_killed_servers_folder_is_free_and_its_training_ends_as_interrupted(tmp_path):
    env, data = _env(tmp_path / "mods"), tmp_path / "data"
    first, base = _start(data, "--model-name", "trainer", env=env)
    try:
        uuid = _gated_training(base, tmp_path / "never-opened")
        training = _children(first.pid)
    finally:
        first.kill()  # SIGKILL: no cleanup; the kernel drops its lock
        first.wait(timeout=30)
    _wait_for(lambda: not any(alive(pid) for pid in training), "the training died with it")
    again, base = _start(data, "--model-name", "trainer", env=env)
    try:
        assert json.loads((data / LOCK_FILE).read_text())["pid"] == again.pid
        found = _json(base + TRAIN + uuid)
        assert (found["status"], found["message"]) == (
            "error", "the server stopped while this training was running")
    finally:
        code, _ = _stop(again, signal.SIGTERM)
    assert code == 0, again.stdout.read()

"""Secret arguments through real processes: deepaas-run's own log output (the access log
included) and deepaas-cli's printed training record show them as ``***``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.cmd.test_run import _start, _stop
from tests.helpers import installed_models
from tests.models.secretive import digest

RUN = Path(sys.executable).with_name("deepaas-run")
CLI = Path(sys.executable).with_name("deepaas-cli")
pytestmark = pytest.mark.skipif(not (RUN.exists() and CLI.exists()),
                                reason="deepaas-run and deepaas-cli are not installed")


@pytest.fixture
def secrets() -> dict[str, str]:
    mark = uuid.uuid4().hex
    return {"token": "tok-" + mark, "apiKey": "key-" + mark, "legacy": "leg-" + mark}


def secretive_installed(root: Path) -> dict[str, str]:
    """The environment of a process that sees tests.models.secretive installed as the model
    ``secretive``: its entry point in ``root``, found through PYTHONPATH (as is this
    repository)."""
    return installed_models(root, {"secretive": "tests.models.secretive"})


@pytest.fixture
def installed(tmp_path: Path) -> dict[str, str]:
    return secretive_installed(tmp_path / "site")


def _unseen(secrets: dict[str, str], where: str, data: str | bytes) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    for name, value in secrets.items():
        assert value[4:].encode("utf-8") not in raw, "%s shows in %s" % (name, where)


def _post(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"),
                                    timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read()


def _trained(base: str, uuid: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = json.loads(_get(base + "/v2/models/secretive/train/" + uuid))
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("training %s still running" % uuid)


def test_deepaas_run_logs_no_secret(tmp_path: Path, secrets: dict[str, str],
                                    installed: dict[str, str]) -> None:
    (tmp_path / "tmp").mkdir()
    proc, base = _start(tmp_path / "data", "--model-name", "secretive", "--debug",
                        "--debug-endpoint", "--tmp-dir", str(tmp_path / "tmp"), env=installed)
    try:
        query = urllib.parse.urlencode(secrets)
        status, body = _post(base + "/v2/models/secretive/predict/?" + query)
        assert status == 200, body
        assert json.loads(body)["predictions"]["got"] == digest(*secrets.values())
        status, body = _post(base + "/v2/models/secretive/predict/?fail=true&" + query)
        assert status == 500 and b"login refused for token ***" in body
        status, body = _post(base + "/v2/models/secretive/train/?fail=true&" + query)
        assert status == 200
        job = _trained(base, json.loads(body)["uuid"])
        assert job["status"] == "error" and job["args"]["token"] == "***"
        debug = _get(base + "/v2/debug/")
        _unseen(secrets, "/v2/debug/", debug)
        assert b"login refused for token ***" in debug
    finally:
        code, _ = _stop(proc, signal.SIGTERM)
    out = proc.stdout.read()
    assert code == 0, out
    _unseen(secrets, "deepaas-run's output", out)
    assert "/v2/models/secretive/predict/?token=***&apiKey=***&legacy=***\" 200" in out
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "log.txt" for p in files)  # the training's log is searched too
    for path in files:
        _unseen(secrets, str(path), path.read_bytes())


def test_deepaas_cli_prints_the_training_record_masked(tmp_path: Path, secrets: dict[str, str],
                                                       installed: dict[str, str]) -> None:
    target = tmp_path / "record.json"
    proc = subprocess.run(
        [str(CLI), "--model-name", "secretive", "--deepaas_method_output", str(target), "train",
         *(arg for name, value in secrets.items() for arg in ("--" + name, value))],
        capture_output=True, text=True, timeout=120,
        env={**{k: v for k, v in os.environ.items() if k != "DEEPAAS_V2_MODEL"}, **installed})
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    assert printed["args"] == {"token": "***", "key": "***", "legacy": "***", "note": "",
                               "fail": False, "gate": "", "stream": False}
    assert printed["result"]["output"]["got"] == digest(*secrets.values())  # the real ones
    assert json.loads(target.read_text()) == printed
    for where, text in (("stdout", proc.stdout), ("stderr", proc.stderr),
                        ("the output file", target.read_text())):
        _unseen(secrets, where, text)

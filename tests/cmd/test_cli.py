"""deepaas-cli as a real console script: every method, argument kind, output and exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).with_name("deepaas-cli")
pytestmark = pytest.mark.skipif(not CLI.exists(), reason="deepaas-cli is not installed")
pytest.importorskip("compatmod", reason="make test installs tests/compat/compatmod")
pytest.importorskip("deepaas_demo", reason="make test installs plugins/demo")


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DEEPAAS_V2_MODEL"}
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env={**environ, **(env or {})})


def ok_json(proc: subprocess.CompletedProcess[str]) -> object:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # the whole of stdout is one JSON document


def test_several_models_need_a_name():
    proc = cli("predict")  # exit 1, as DEEPaaS 2.6.0 (and as for a model not installed)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "several models are installed" in proc.stderr
    assert "compatmod" in proc.stderr and "demo" in proc.stderr


def test_metadata_and_warm_and_env_selection():
    meta = ok_json(cli("--model-name", "compatmod", "get_metadata"))
    assert meta["name"] == "compatmod" and meta["license"] == "MIT"
    assert ok_json(cli("warm", env={"DEEPAAS_V2_MODEL": "demo"})) == {
        "model": "demo", "warmed": True}


def test_predict_with_every_argument_kind(tmp_path):
    proc = cli("--model-name", "compatmod", "predict", "--repeat", "2", "--text", "yo",
               "--mode", "slow", "--ratio", "0.25", "--flag", "yes", "--ids", "4", "--ids", "5",
               "--wire-name", "zz", "--opt", "7")
    pred = ok_json(proc)  # what predict returned, without the HTTP API's envelope
    assert "status" not in pred
    assert (pred["repeat"], pred["text"], pred["mode"], pred["ratio"]) == (2, "yo", "slow", 0.25)
    assert pred["flag"] is True and pred["ids"] == [4, 5] and pred["wire"] == "zz"
    assert pred["opt"] == 7 and pred["warmed"] is True  # warm() ran first
    literal = ok_json(cli("--model-name", "compatmod", "predict", "--repeat", "1",
                          "--ids", "[1, 2, 3]", "--flag", "0"))
    assert literal["ids"] == [1, 2, 3]
    assert literal["flag"] is False


def test_file_argument_is_an_uploaded_file_and_its_copy_is_removed(tmp_path):
    data = tmp_path / "input.txt"
    data.write_text("hello file")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    body = ok_json(cli("--model-name", "compatmod", "predict", "--repeat", "1",
                       "--data", str(data), env={"TMPDIR": str(scratch)}))
    assert body["data"] == ["data", "input.txt", 10]
    assert list(scratch.iterdir()) == []
    assert data.read_text() == "hello file"


def test_binary_output_goes_to_a_file_with_its_extension(tmp_path):
    target = tmp_path / "out" / "chart"
    answer = ok_json(cli("--model-name", "demo", "--deepaas_method_output", str(target),
                         "predict", "--accept", "image/png"))
    assert answer["output"] == str(target) + ".png" and answer["content_type"] == "image/png"
    png = Path(answer["output"]).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == answer["size"]
    default = ok_json(cli("--model-name", "demo", "predict", "--accept", "image/png",
                          cwd=tmp_path))
    assert Path(default["output"]).parent == tmp_path
    assert default["output"].endswith(".png")


def test_json_result_is_also_written_to_the_output_file(tmp_path):
    target = tmp_path / "deep" / "result.json"
    body = ok_json(cli("--model-name", "demo", "predict", "--n", "2",
                       "--deepaas_method_output", str(target)))
    assert json.loads(target.read_text()) == body


def test_training_prints_the_record_and_shows_progress(tmp_path):
    proc = cli("--model-name", "demo", "train", "--epochs", "3", "--epoch_seconds", "0")
    job = ok_json(proc)  # the module's own prints went to stderr
    assert job["status"] == "done" and job["args"]["epochs"] == 3
    assert job["result"]["output"]["epochs"] == 3 and job["result"]["duration"]
    assert [m["step"] for m in job["metrics"]] == [1, 2, 3]
    assert "epoch 3/3" in proc.stderr
    assert "progress: step 3/3 (100%)" in proc.stderr  # plain lines: stderr is no terminal


def test_invalid_and_missing_values_exit_2_with_the_http_messages():
    proc = cli("--model-name", "compatmod", "predict", "--repeat", "x", "--mode", "zzz")
    assert proc.returncode == 2 and proc.stdout == ""
    messages = json.loads(proc.stderr.split("invalid arguments: ", 1)[1])
    assert messages == {"repeat": ["Not a valid integer."],
                        "mode": ["Must be one of: fast, slow."]}
    proc = cli("--model-name", "compatmod", "predict")
    assert proc.returncode == 2
    assert '{"repeat": ["Missing data for required field."]}' in proc.stderr
    proc = cli("--model-name", "compatmod", "predict", "--repeat", "1", "--data", "/nope")
    assert proc.returncode == 2 and "No such file: /nope" in proc.stderr
    proc = cli("--model-name", "compatmod", "predict", "--no-such-option", "1")
    assert proc.returncode == 2 and "unrecognized arguments" in proc.stderr


def test_module_errors_exit_1_with_message_and_traceback():
    proc = cli("--model-name", "compatmod", "predict", "--repeat", "1", "--fail", "value")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "ValueError: asked to fail" in proc.stderr and "Traceback" in proc.stderr
    proc = cli("--model-name", "compatmod", "train", "--crash", "true")
    assert proc.returncode == 1 and "training exploded" in proc.stderr
    proc = cli("--model-name", "compatcls", "train")  # no train at all: still a command
    assert proc.returncode == 1 and "Not implemented" in proc.stderr


def test_help_lists_generated_options():
    proc = cli("--model-name", "compatmod", "predict", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "--repeat VALUE times to repeat Type: integer. Required." in text
    assert 'what to say Type: string. Default: "hi".' in text
    assert "Choices: fast, slow." in text
    assert "--data PATH a file Type: path to a file." in text
    assert "list of integer" in text
    methods = cli("--model-name", "compatcls", "--help")
    assert all(m in methods.stdout for m in ("get_metadata", "warm", "predict", "train"))

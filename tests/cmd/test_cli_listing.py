"""deepaas-cli with neither a model nor a METHOD: the installed models and their methods."""

from __future__ import annotations

import pytest

from tests.cmd.test_cli import cli
from tests.cmd.test_run import _fake_modules

pytest.importorskip("compatmod", reason="make test installs tests/compat/compatmod")

BROKEN = 'raise ImportError("broken on purpose")\n'
BAD_ARGS = "def get_train_args():\n    return 'epochs'\n\ndef predict(**kwargs):\n    return 1\n"
ONLY_PREDICT = "def predict(**kwargs):\n    return 1\n"


def _lines(text: str) -> dict[str, str]:
    listing = text.split("Installed models and their methods:\n", 1)[1].split("\n\n")[0]
    rows = [line.split(None, 1) for line in listing.splitlines()]
    return {name: rest.strip() for name, rest in rows}


def test_lists_installed_models_and_their_methods():
    proc = cli()
    assert proc.returncode == 0, proc.stderr
    models = _lines(proc.stdout)
    assert models["compatmod"] == "get_metadata, warm, predict, train"
    assert models["demo"] == "get_metadata, warm, predict, train"
    assert "deepaas-cli --model-name NAME METHOD" in proc.stdout
    assert "error" not in proc.stderr and "usage" not in proc.stderr


def test_lists_what_only_predicts_and_what_fails_to_load(tmp_path):
    env = _fake_modules(tmp_path, {"zbroken": BROKEN, "zbadargs": BAD_ARGS,
                                   "zonly": ONLY_PREDICT})
    proc = cli(env=env)
    assert proc.returncode == 0, proc.stderr
    models = _lines(proc.stdout)
    assert models["zonly"] == "predict"
    assert models["zbroken"] == "failed to load: ImportError: broken on purpose"
    assert models["zbadargs"].startswith(
        "failed to load: model 'zbadargs': get_train_args() returned a value of type str")


def test_help_without_a_model_shows_the_options_and_the_models():
    proc = cli("--help")
    assert proc.returncode == 0
    assert "--model-name NAME" in proc.stdout and "--version" in proc.stdout
    assert _lines(proc.stdout)["compatmod"] == "get_metadata, warm, predict, train"


def test_a_method_without_a_model_still_asks_for_one():
    proc = cli("get_metadata")
    assert proc.returncode == 1 and "several models are installed" in proc.stderr

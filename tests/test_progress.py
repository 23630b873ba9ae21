"""progress.report(): a no-op outside a training, one JSON line per report inside one."""

from __future__ import annotations

import json
import os

from deepaas import progress


class Scalar:
    def item(self):
        return 0.25


def test_outside_a_training_it_does_nothing(monkeypatch):
    monkeypatch.delenv(progress.ENV_FD, raising=False)
    assert progress.report(step=1, total=2, loss=0.5) is None


def test_reports_are_json_lines_on_the_channel(monkeypatch):
    read_fd, write_fd = os.pipe()
    monkeypatch.setenv(progress.ENV_FD, str(write_fd))
    try:
        progress.report(step=1, total=4, loss=Scalar(), note="warm-up", bad=float("nan"))
        progress.report(huge="x" * 10000)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as reader:
            lines = reader.read().decode().splitlines()
    finally:
        monkeypatch.delenv(progress.ENV_FD)
    first, second = (json.loads(line) for line in lines)
    assert first["step"] == 1 and first["total"] == 4
    assert first["metrics"] == {"loss": 0.25, "note": "warm-up", "bad": "nan"}
    assert second["metrics"] == {"error": second["metrics"]["error"]}
    assert "too large" in second["metrics"]["error"]


def test_a_closed_channel_does_not_break_the_training(monkeypatch):
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    monkeypatch.setenv(progress.ENV_FD, str(write_fd))
    try:
        progress.report(step=1)  # EPIPE is swallowed
    finally:
        os.close(write_fd)

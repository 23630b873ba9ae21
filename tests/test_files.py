"""Temp files named for their maker, and swept once it is gone (never while it lives)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepaas import files


def test_a_name_says_its_kind_namespace_and_process() -> None:
    prefix = files.owned_prefix("ray-train")
    assert prefix.startswith("deepaas-ray-train-") and prefix.endswith("_%d-" % os.getpid())


def _gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: no process has its pid now
    return child.pid


def _name(kind: str, pid: int, namespace: str | None = None) -> str:
    prefix = files.owned_prefix(kind)
    head = prefix.rpartition("_")[0] if namespace is None else "deepaas-%s-%s" % (kind,
                                                                                   namespace)
    return "%s_%d-x" % (head, pid)


def test_what_a_gone_process_left_is_swept_and_nothing_else(tmp_path: Path) -> None:
    gone = _gone_pid()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        made_by_alive = tmp_path / _name("upload", alive.pid)
        made_by_alive.write_bytes(b"in use")  # made after its maker started: kept
        swept = [tmp_path / _name("upload", gone), tmp_path / _name("train", gone)]
        folder = tmp_path / _name("ray-train", gone)
        (folder / "inner").mkdir(parents=True)
        kept = [made_by_alive, tmp_path / (files.owned_prefix("remote") + "x"),
                tmp_path / _name("upload", gone, namespace="123"),  # another container's
                tmp_path / "deepaas-upload-abcdef", tmp_path / "other.txt"]
        for path in swept + kept[1:]:
            path.write_bytes(b"")
        assert files.sweep_orphans([tmp_path, tmp_path / "missing"]) == 3
        assert sorted(tmp_path.iterdir()) == sorted(kept)
    finally:
        alive.kill()
        alive.wait()


def test_a_reused_pid_is_not_the_maker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a process with the pid lives, but it started after the file was made
    path = tmp_path / _name("upload", 1)
    path.write_bytes(b"")
    made = path.stat().st_ctime
    monkeypatch.setattr(files, "_started", lambda pid: made + 60)
    assert files.sweep_orphans([tmp_path]) == 1 and not path.exists()
    path.write_bytes(b"")
    monkeypatch.setattr(files, "_started", lambda pid: made + 1)  # within the clock's slack
    assert files.sweep_orphans([tmp_path]) == 0 and path.exists()

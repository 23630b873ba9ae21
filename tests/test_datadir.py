"""The claim on a data folder: one holder at a time, released on close and when the holder
dies; an app claims its folder while it runs."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from deepaas.datadir import LOCK_FILE, DataDirLock
from deepaas.exceptions import ConfigError, DataDirInUse
from deepaas.model.loading import Registry
from tests.conftest import wrapper

ADDRESS = "http://127.0.0.1:5000"


def test_a_free_folder_is_made_and_claimed_and_says_who_holds_it(tmp_path):
    folder = tmp_path / "new" / "data"
    with DataDirLock(folder, ADDRESS) as lock:
        assert lock.held and folder.is_dir()
        said = json.loads((folder / LOCK_FILE).read_text())
        assert (said["pid"], said["address"]) == (os.getpid(), ADDRESS)
        assert said["host"] and said["started"]
        assert stat.S_IMODE((folder / LOCK_FILE).stat().st_mode) == 0o600
    assert not lock.held


def test_a_held_folder_is_refused_naming_the_holder_and_the_fix(tmp_path):
    first = DataDirLock(tmp_path, ADDRESS)
    first.claim()
    try:
        (tmp_path.parent / (tmp_path.name + "-link")).symlink_to(tmp_path)  # another name
        second = DataDirLock(tmp_path.parent / (tmp_path.name + "-link"), "http://127.0.0.1:5001")
        with pytest.raises(DataDirInUse) as refused:
            second.claim()
        assert not second.held
        assert str(refused.value) == (
            "the data folder %s is in use by another deepaas-run (pid %d, %s); give this "
            "server a folder of its own with --data-dir" % (tmp_path, os.getpid(), ADDRESS))
        assert refused.value.exit_code == 1
        # the refusal changed nothing of what the holder wrote
        assert json.loads((tmp_path / LOCK_FILE).read_text())["address"] == ADDRESS
    finally:
        first.close()


def test_claiming_again_is_a_no_op_and_the_address_can_be_updated(tmp_path):
    lock = DataDirLock(tmp_path, "http://127.0.0.1:0")
    lock.claim()
    try:
        lock.claim()
        lock.update("http://127.0.0.1:41234")
        said = json.loads((tmp_path / LOCK_FILE).read_text())
        assert said["address"] == "http://127.0.0.1:41234"
        with pytest.raises(DataDirInUse, match="41234"):
            DataDirLock(tmp_path, ADDRESS).claim()
    finally:
        lock.close()


def test_a_released_folder_can_be_claimed_again(tmp_path):
    lock = DataDirLock(tmp_path, ADDRESS)
    lock.claim()
    lock.close()
    lock.close()  # twice: nothing more
    assert (tmp_path / LOCK_FILE).read_text() == ""  # names no one once let go
    with DataDirLock(tmp_path, "http://127.0.0.1:5001"):
        pass
    lock.claim()  # the same object, once more
    lock.close()


def test_the_lock_dies_with_a_killed_holder(tmp_path):
    code = ("import sys; from deepaas.datadir import DataDirLock; "
            "DataDirLock(sys.argv[1], 'http://127.0.0.1:5002').claim(); "
            "print('held', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(DataDirInUse, match=r"\(pid %d, http://127.0.0.1:5002\)" % holder.pid):
            DataDirLock(tmp_path, ADDRESS).claim()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    with DataDirLock(tmp_path, ADDRESS) as lock:  # no stale lock left behind
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
        assert lock.held


def test_a_filesystem_without_flock_is_a_warning(tmp_path, monkeypatch, caplog):
    def unsupported(fd: int, how: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", unsupported)
    with DataDirLock(tmp_path, ADDRESS) as lock:
        assert lock.held
    assert "cannot lock the data folder %s" % tmp_path in caplog.text


def test_a_folder_that_cannot_be_made_is_a_config_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot use the data folder %s/data: "
                       % (tmp_path / "file")):
        DataDirLock(tmp_path / "file" / "data", ADDRESS).claim()


async def test_an_app_holds_its_folder_while_it_runs(serve, tmp_path):
    data = tmp_path / "data"
    client = await serve(Registry.of(wrapper("basic")), data_dir=str(data))
    said = json.loads((data / LOCK_FILE).read_text())
    assert said["pid"] == os.getpid()
    with pytest.raises(DataDirInUse):
        await serve(Registry.of(wrapper("basic")), data_dir=str(data))
    resp = await client.get("/v2/models/")
    assert resp.status == 200  # the first app goes on
    await client.close()
    again = await serve(Registry.of(wrapper("basic")), data_dir=str(Path(data)))
    assert (await again.get("/v2/models/")).status == 200

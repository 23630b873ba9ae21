"""Uploading a training's outputs to a real wsgidav."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from deepaas.exceptions import ConfigError, RemoteUnavailable
from deepaas.storage import OutputStorage
from tests.storageservers import WebdavServer


def settings(*auth: str) -> tuple[str, ...]:
    """The ``--storage-auth`` entries an OutputStorage gets."""
    return auth


def outputs(folder: Path) -> dict[str, bytes]:
    files = {"model.bin": b"\x00\x01weights", "logs/train.log": b"epoch 1\n",
             "logs/deeper/metrics.json": b"{}", "with space.txt": b"x"}
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return files


async def test_a_folder_tree_is_uploaded_with_its_folders(
        tmp_path: Path, webdav_server: WebdavServer) -> None:
    files = outputs(tmp_path / "out")
    base = "outputs-" + secrets.token_hex(4)
    storage = OutputStorage("%s/%s" % (webdav_server.url, base),
                            settings(webdav_server.auth_entry))
    answer = await storage.upload(tmp_path / "out", "job-1")
    for name, data in files.items():
        assert (webdav_server.root / base / "job-1" / name).read_bytes() == data
    prefix = "%s/%s/job-1/" % (webdav_server.url, base)
    assert answer == [
        {"name": "logs/deeper/metrics.json", "size": 2, "url": prefix + "logs/deeper/metrics.json"},
        {"name": "logs/train.log", "size": 8, "url": prefix + "logs/train.log"},
        {"name": "model.bin", "size": 9, "url": prefix + "model.bin"},
        {"name": "with space.txt", "size": 1, "url": prefix + "with%20space.txt"},
    ]
    assert webdav_server.password not in str(answer)
    # a second upload to the same place replaces the files
    (tmp_path / "out" / "model.bin").write_bytes(b"v2")
    await storage.upload(tmp_path / "out", "job-1")
    assert (webdav_server.root / base / "job-1" / "model.bin").read_bytes() == b"v2"


async def test_links_are_skipped_and_nothing_is_nothing(tmp_path: Path,
                                                        webdav_server: WebdavServer) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "secret").write_text("not an output")
    (tmp_path / "out" / "link").symlink_to(tmp_path / "secret")
    (tmp_path / "out" / "dirlink").symlink_to(tmp_path, target_is_directory=True)
    storage = OutputStorage(webdav_server.url + "/o", settings(webdav_server.auth_entry))
    assert await storage.upload(tmp_path / "out", "job") == []
    assert await storage.upload(tmp_path / "missing", "job") == []


async def test_a_wrong_password_is_a_clear_error(tmp_path: Path,
                                                 webdav_server: WebdavServer) -> None:
    outputs(tmp_path / "out")
    storage = OutputStorage(webdav_server.url + "/o",
                            settings("127.0.0.1=alice:%sX" % webdav_server.password))
    with pytest.raises(RemoteUnavailable) as caught:
        await storage.upload(tmp_path / "out", "job")
    assert caught.value.message.startswith(
        "uploading outputs to %s/o failed: the storage refused access" % webdav_server.url)
    assert "401" in caught.value.message
    assert webdav_server.password not in caught.value.message
    assert caught.value.__cause__ is None


def test_the_url_is_checked_when_built() -> None:
    with pytest.raises(ConfigError, match="--storage-auth, not in the URL"):
        OutputStorage("webdavs://bob:pw@cloud.example.org/out", settings())
    with pytest.raises(ConfigError, match="--output-storage"):
        OutputStorage("ftp://cloud.example.org/out", settings())
    storage = OutputStorage("https://cloud.example.org/remote.php/dav/files/bob/out/",
                            settings())
    assert storage.url == "https://cloud.example.org/remote.php/dav/files/bob/out"


async def test_prefixes_cannot_climb_out(tmp_path: Path) -> None:
    storage = OutputStorage("webdav://127.0.0.1:1/o", settings())
    with pytest.raises(ValueError, match="'..'"):
        await storage.upload(tmp_path, "../elsewhere")

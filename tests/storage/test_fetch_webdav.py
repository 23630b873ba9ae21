"""Fetching over WebDAV from a real wsgidav on 127.0.0.1, with its basic authentication."""

from __future__ import annotations

import logging
import secrets
import socket
from pathlib import Path

import pytest

from deepaas.exceptions import RemoteNotFound, RemoteRefused, RemoteTooLarge
from deepaas.storage import RemoteData
from deepaas.storage import addresses as addresses_module
from tests.storage import settings_for
from tests.storageservers import HttpFiles, WebdavServer


def remote_for(tmp_path: Path, server: WebdavServer, *auth: str, **overrides: object
               ) -> RemoteData:
    return RemoteData(settings_for(tmp_path, "webdav://127.0.0.1:*", storage_auth=auth,
                                   **overrides))


def unique(name: str) -> str:
    # One server for the session: each test its own folder.
    return "%s/%s" % (secrets.token_hex(4), name)


async def test_a_file_with_the_servers_credentials(tmp_path: Path,
                                                   webdav_server: WebdavServer) -> None:
    name = unique("table.csv")
    webdav_server.write(name, b"a,b\n1,2\n")
    remote = remote_for(tmp_path, webdav_server, webdav_server.auth_entry)
    fetched = await remote.fetch("%s/%s" % (webdav_server.url, name), str(tmp_path / "in"))
    assert Path(fetched.path).read_bytes() == b"a,b\n1,2\n"
    assert (fetched.original_filename, fetched.content_type, fetched.size,
            fetched.from_cache) == ("table.csv", "text/csv", 8, False)
    # wsgidav gives ETags: the second fetch is a hit
    again = await remote.fetch("%s/%s" % (webdav_server.url, name), str(tmp_path / "in"))
    assert again.from_cache and Path(again.path).read_bytes() == b"a,b\n1,2\n"
    assert (remote.downloads, remote.hits) == (1, 1)


async def test_names_with_spaces_and_unicode(tmp_path: Path,
                                             webdav_server: WebdavServer) -> None:
    name = unique("résumé final.txt")
    webdav_server.write(name, b"hi")
    remote = remote_for(tmp_path, webdav_server, webdav_server.auth_entry)
    quoted = name.replace(" ", "%20").replace("é", "%C3%A9")
    fetched = await remote.fetch("%s/%s" % (webdav_server.url, quoted), str(tmp_path / "in"))
    assert fetched.original_filename == "résumé final.txt"
    assert Path(fetched.path).read_bytes() == b"hi"


@pytest.mark.parametrize("auth", ["wrong", "none"])
async def test_a_wrong_or_missing_password_is_a_clear_refusal(
        tmp_path: Path, webdav_server: WebdavServer, caplog: pytest.LogCaptureFixture,
        auth: str) -> None:
    caplog.set_level(logging.DEBUG)
    name = unique("a.txt")
    webdav_server.write(name, b"a")
    # the wrong password shares the real one's prefix: no part of either may show
    entries = ["127.0.0.1=alice:%sX" % webdav_server.password] if auth == "wrong" else []
    remote = remote_for(tmp_path, webdav_server, *entries)
    url = "%s/%s" % (webdav_server.url, name)
    with pytest.raises(RemoteRefused) as caught:
        await remote.fetch(url, str(tmp_path / "in"))
    assert caught.value.message == (
        "the storage refused access to %s (401 Not Authorized): the server's credentials for "
        "it are missing or wrong" % url)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert webdav_server.password not in caplog.text


async def test_missing_files_and_folders(tmp_path: Path, webdav_server: WebdavServer) -> None:
    folder = unique("")
    webdav_server.write(folder + "inside.txt", b"x")
    remote = remote_for(tmp_path, webdav_server, webdav_server.auth_entry)
    missing = "%s/%snope.txt" % (webdav_server.url, folder)
    with pytest.raises(RemoteNotFound, match="no file at %s \\(404\\)" % missing):
        await remote.fetch(missing, str(tmp_path / "in"))
    with pytest.raises(RemoteNotFound, match="is a folder, not a file"):
        await remote.fetch("%s/%s" % (webdav_server.url, folder), str(tmp_path / "in"))


async def test_size_limit(tmp_path: Path, webdav_server: WebdavServer) -> None:
    name = unique("big.bin")
    webdav_server.write(name, b"x" * 5000)
    remote = remote_for(tmp_path, webdav_server, webdav_server.auth_entry,
                        remote_max_size=4096)
    with pytest.raises(RemoteTooLarge, match="file is 4.9 KiB, more than the limit of 4.0 KiB"):
        await remote.fetch("%s/%s" % (webdav_server.url, name), str(tmp_path / "in"))
    assert remote.downloads == 0


async def test_webdav_urls_must_be_allowed_too(tmp_path: Path,
                                               webdav_server: WebdavServer) -> None:
    remote = RemoteData(settings_for(tmp_path, "webdavs://127.0.0.1:*",
                                     storage_auth=(webdav_server.auth_entry,)))
    with pytest.raises(RemoteRefused, match="host 127.0.0.1 is not allowed for webdav://"):
        await remote.fetch(webdav_server.url + "/a.txt", str(tmp_path / "in"))


async def test_webdav_redirects_are_not_followed(tmp_path: Path, http_files: HttpFiles) -> None:
    http_files.write("a.txt", b"a")
    remote = RemoteData(settings_for(tmp_path, "webdav://127.0.0.1:*"))
    url = "webdav://127.0.0.1:%d/moved/a.txt" % http_files.port
    with pytest.raises(RemoteRefused) as caught:
        await remote.fetch(url, str(tmp_path / "in"))
    assert caught.value.message == (
        "%s redirects to /files/a.txt; redirects are not followed for WebDAV" % url)
    assert not http_files.gets


@pytest.fixture
def dav_test(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """"dav.test" resolves to 127.0.0.1, which counts as public here, so that the test server
    can be reached with --remote-private off; answers the names looked up, in order."""
    looked_up: list[str] = []
    real_kind = addresses_module.address_problem

    def kind(address: str) -> str | None:
        return None if address == "127.0.0.1" else real_kind(address)

    def lookup(host: str, port: int, family: int = 0) -> list[tuple[int, str]]:
        assert host == "dav.test"  # no real DNS query, ever
        looked_up.append(host)
        return [(socket.AF_INET, "127.0.0.1")]

    monkeypatch.setattr(addresses_module, "address_problem", kind)
    monkeypatch.setattr(addresses_module, "lookup", lookup)
    return looked_up


async def test_a_public_name_is_fetched_through_the_checked_address(
        tmp_path: Path, webdav_server: WebdavServer, dav_test: list[str]) -> None:
    name = unique("named.txt")
    webdav_server.write(name, b"by name")
    entry = "dav.test:%d=alice:%s" % (webdav_server.port, webdav_server.password)
    remote = RemoteData(settings_for(tmp_path, "webdav://dav.test:*", storage_auth=(entry,),
                                     remote_private=False))
    fetched = await remote.fetch("webdav://dav.test:%d/%s" % (webdav_server.port, name),
                                 str(tmp_path / "in"))
    assert Path(fetched.path).read_bytes() == b"by name"
    assert len(dav_test) >= 2  # checked first, then resolved again when connecting


async def test_a_dns_answer_that_changes_before_the_connection_is_refused(
        tmp_path: Path, webdav_server: WebdavServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([[(socket.AF_INET, "1.1.1.1")]])

    def rebinding(host: str, port: int, family: int = 0) -> list[tuple[int, str]]:
        # public for the first check, the loopback a moment later (DNS rebinding)
        assert host == "rebind.test"
        return next(answers, [(socket.AF_INET, "127.0.0.1")])

    monkeypatch.setattr(addresses_module, "lookup", rebinding)
    name = unique("secret.txt")
    webdav_server.write(name, b"internal")
    remote = RemoteData(settings_for(tmp_path, "webdav://rebind.test:*", remote_private=False))
    with pytest.raises(RemoteRefused) as caught:
        await remote.fetch("webdav://rebind.test:%d/%s" % (webdav_server.port, name),
                           str(tmp_path / "in"))
    assert caught.value.message == ("the address of host rebind.test is not allowed: this "
                                    "server does not fetch from internal addresses")
    assert next(answers, None) is None  # the first answer was checked, and passed
    assert caught.value.__cause__ is None and remote.downloads == 0
    assert "127.0.0.1" in caplog.text  # the operator's log says where it led

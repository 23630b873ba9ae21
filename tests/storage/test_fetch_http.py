"""Fetching over HTTP from a real server on 127.0.0.1: names, types, limits, errors, redirects."""

from __future__ import annotations

import logging
import socket
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from deepaas.exceptions import (
    RemoteNotFound,
    RemoteRefused,
    RemoteTimeout,
    RemoteTooLarge,
    RemoteUnavailable,
)
from deepaas.storage import RemoteData
from deepaas.storage import addresses as addresses_module
from tests.storage import settings_for
from tests.storageservers import HttpFiles


def remote_for(tmp_path: Path, files: HttpFiles, **overrides: object) -> RemoteData:
    return RemoteData(settings_for(tmp_path, files.url, **overrides))


def cache_files(remote: RemoteData) -> list[str]:
    """What the cache holds besides its lock files."""
    return sorted(str(p.relative_to(remote.cache_dir)) for p in remote.cache_dir.rglob("*")
                  if p.is_file() and p.parent.name != "locks")


async def test_a_file_with_its_name_and_type_from_the_url(tmp_path: Path,
                                                          http_files: HttpFiles) -> None:
    url = http_files.write("sub/table%20one.csv".replace("%20", " "), b"a,b\n1,2\n")
    remote = remote_for(tmp_path, http_files)
    fetched = await remote.fetch(url.replace(" ", "%20"), str(tmp_path / "in"))
    assert Path(fetched.path).read_bytes() == b"a,b\n1,2\n"
    assert Path(fetched.path).parent == tmp_path / "in"
    assert fetched.path.endswith(".csv")
    assert (fetched.original_filename, fetched.content_type, fetched.size) == (
        "table one.csv", "text/csv", 8)
    assert not fetched.from_cache and remote.downloads == 1


async def test_the_name_of_content_disposition_wins(tmp_path: Path,
                                                    http_files: HttpFiles) -> None:
    http_files.write("blob", b"{}")
    remote = remote_for(tmp_path, http_files)
    fetched = await remote.fetch(http_files.url + "/named/blob?as=result.json",
                                 str(tmp_path / "in"))
    assert (fetched.original_filename, fetched.content_type) == ("result.json",
                                                                 "application/json")


async def test_a_name_is_never_a_path(tmp_path: Path, http_files: HttpFiles) -> None:
    http_files.write("blob", b"x")
    remote = remote_for(tmp_path, http_files)
    fetched = await remote.fetch(http_files.url + "/named/blob?as=../../etc/passwd",
                                 str(tmp_path / "in"))
    assert fetched.original_filename == "passwd"
    assert Path(fetched.path).parent == tmp_path / "in"


@pytest.mark.parametrize("path", ["/s/AbC123", "/index.php/s/AbC123", "/s/AbC123/download"])
async def test_nextcloud_share_links(tmp_path: Path, http_files: HttpFiles, path: str) -> None:
    http_files.share("AbC123", b"x,y\n3,4\n")
    remote = remote_for(tmp_path, http_files)
    fetched = await remote.fetch(http_files.url + path, str(tmp_path / "in"))
    assert Path(fetched.path).read_bytes() == b"x,y\n3,4\n"
    assert (fetched.original_filename, fetched.content_type) == ("data.csv", "text/csv")
    assert http_files.gets[path.rstrip("/").removesuffix("/download")] == 0  # not the page


async def test_storage_credentials_are_sent_and_never_shown(
        tmp_path: Path, http_files: HttpFiles, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    http_files.write("secret.txt", b"s3cret")
    url = http_files.url + "/private/secret.txt"
    entry = "127.0.0.1:%d=alice:%s" % (http_files.port, http_files.password)
    fetched = await remote_for(tmp_path, http_files, storage_auth=(entry,)).fetch(
        url, str(tmp_path / "in"))
    assert Path(fetched.path).read_bytes() == b"s3cret"

    wrong = "127.0.0.1=alice:wrong-%s" % http_files.password
    with pytest.raises(RemoteRefused) as caught:
        await remote_for(tmp_path, http_files, storage_auth=(wrong,)).fetch(
            url, str(tmp_path / "in"))
    assert "refused access" in caught.value.message and "401" in caught.value.message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert http_files.password not in caught.value.message
    assert http_files.password not in caplog.text


async def test_credentials_in_the_url_are_refused_before_connecting(
        tmp_path: Path, http_files: HttpFiles) -> None:
    url = http_files.write("a.txt", b"a").replace("http://", "http://alice:pw@")
    with pytest.raises(RemoteRefused, match="credentials in URLs are not accepted"):
        await remote_for(tmp_path, http_files).fetch(url, str(tmp_path / "in"))
    assert not http_files.gets


async def test_missing_files_and_failing_servers(tmp_path: Path, http_files: HttpFiles) -> None:
    remote = remote_for(tmp_path, http_files)
    with pytest.raises(RemoteNotFound) as missing:
        await remote.fetch(http_files.url + "/files/nope.csv", str(tmp_path / "in"))
    assert missing.value.message == "no file at %s/files/nope.csv (404 Not Found)" % (
        http_files.url)
    assert missing.value.status == 422
    with pytest.raises(RemoteUnavailable, match="answered 503 Service Unavailable") as failing:
        await remote.fetch(http_files.url + "/status/503", str(tmp_path / "in"))
    assert failing.value.status == 502

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nobody = RemoteData(settings_for(tmp_path, "http://127.0.0.1:*"))
    with pytest.raises(RemoteUnavailable, match="cannot connect to 127.0.0.1:%d" % port):
        await nobody.fetch("http://127.0.0.1:%d/a.csv" % port, str(tmp_path / "in"))
    assert cache_files(remote) == []


async def test_a_file_announced_too_large_is_not_downloaded(tmp_path: Path,
                                                            http_files: HttpFiles) -> None:
    url = http_files.write("big.bin", b"x" * 3000)
    remote = remote_for(tmp_path, http_files, remote_max_size=1000)
    with pytest.raises(RemoteTooLarge) as caught:
        await remote.fetch(url, str(tmp_path / "in"))
    assert caught.value.message == (
        "file is 2.9 KiB, more than the limit of 1000 bytes (%s)" % url)
    assert caught.value.status == 413
    assert http_files.gets["/files/big.bin"] == 0
    assert cache_files(remote) == [] and not (tmp_path / "in").exists()


@pytest.mark.parametrize("cache_max_size", [10**9, 0])
async def test_a_server_sending_more_than_it_announced_is_cut_off(
        tmp_path: Path, http_files: HttpFiles, cache_max_size: int) -> None:
    remote = remote_for(tmp_path, http_files, remote_max_size=100_000,
                        cache_max_size=cache_max_size)
    with pytest.raises(RemoteTooLarge, match="sent more than the limit of 97.7 KiB "
                                             r"\(it announced no size\)"):
        await remote.fetch(http_files.url + "/liar?bytes=5000000", str(tmp_path / "in"))
    assert http_files.gets["/liar"] == 1
    assert cache_files(remote) == [] and remote.downloads == 0
    # within the limit, the same route is fine: the check counts bytes, not announcements
    fetched = await remote.fetch(http_files.url + "/liar?bytes=99999", str(tmp_path / "in"))
    assert fetched.size == 99999 == Path(fetched.path).stat().st_size


async def test_a_slow_server_times_out(tmp_path: Path, http_files: HttpFiles) -> None:
    remote = remote_for(tmp_path, http_files, remote_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(RemoteTimeout) as caught:
        await remote.fetch(http_files.url + "/slow?seconds=5", str(tmp_path / "in"))
    assert time.monotonic() - started < 2
    assert caught.value.message == (
        "fetching %s/slow?seconds=5 took longer than 0.5 s, the limit of this server"
        % http_files.url)
    assert caught.value.status == 504
    assert cache_files(remote) == []


def redirect(files: HttpFiles, to: str) -> str:
    return "%s/redirect?to=%s" % (files.url, urllib.parse.quote(to, safe=""))


async def test_each_redirect_hop_must_be_allowed(tmp_path: Path, http_files: HttpFiles) -> None:
    target = http_files.write("secret.txt", b"s")
    start = redirect(http_files, target)
    only_redirects = RemoteData(settings_for(tmp_path, http_files.url + "/redirect"))
    with pytest.raises(RemoteRefused) as caught:
        await only_redirects.fetch(start, str(tmp_path / "in"))
    assert caught.value.message.startswith(
        "%s redirects to %s, which is refused: path /files/secret.txt" % (start, target))
    assert http_files.gets["/files/secret.txt"] == 0
    # the same redirect is followed where its target is allowed too
    both = RemoteData(settings_for(tmp_path, http_files.url + "/redirect",
                                   http_files.url + "/files"))
    fetched = await both.fetch(start, str(tmp_path / "in"))
    assert Path(fetched.path).read_bytes() == b"s"


@pytest.fixture
def public_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 (and only it) counts as public, so that the test server can be a first hop
    with --remote-private off; "internal.test" resolves to ::1, where nothing listens."""
    real_kind, real_lookup = addresses_module.address_problem, addresses_module.lookup

    def kind(address: str) -> str | None:
        return None if address == "127.0.0.1" else real_kind(address)

    def lookup(host: str, port: int, family: int = 0) -> list[tuple[int, str]]:
        if host == "internal.test":
            return [(socket.AF_INET6, "::1")]
        return real_lookup(host, port, family)

    monkeypatch.setattr(addresses_module, "address_problem", kind)
    monkeypatch.setattr(addresses_module, "lookup", lookup)


@pytest.mark.usefixtures("public_loopback")
@pytest.mark.parametrize("host, message", [
    ("[::1]", "redirects to http://[::1]:{port}/files/a.txt: ::1 is a loopback address"),
    ("internal.test", "the address of host internal.test is not allowed"),
])
async def test_a_redirect_to_an_internal_address_is_refused(
        tmp_path: Path, http_files: HttpFiles, host: str, message: str) -> None:
    url = http_files.write("a.txt", b"a")
    remote = RemoteData(settings_for(tmp_path, "http://*:*", remote_private=False))
    assert (await remote.fetch(url, str(tmp_path / "in"))).size == 1  # the first hop is fine
    inside = "http://%s:%d/files/a.txt" % (host, http_files.port)
    with pytest.raises(RemoteRefused) as caught:
        await remote.fetch(redirect(http_files, inside), str(tmp_path / "in"))
    assert message.format(port=http_files.port) in caught.value.message


@pytest.mark.usefixtures("public_loopback")
async def test_dns_answers_are_checked_again_when_connecting(
        tmp_path: Path, http_files: HttpFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([[(socket.AF_INET, "1.1.1.1")]])

    def rebinding(host: str, port: int, family: int = 0) -> list[tuple[int, str]]:
        # public for the first check, internal a moment later (DNS rebinding)
        return next(answers, [(socket.AF_INET6, "::1")])

    monkeypatch.setattr(addresses_module, "lookup", rebinding)
    remote = RemoteData(settings_for(tmp_path, "http://*:*", remote_private=False))
    with pytest.raises(RemoteRefused, match="the address of host rebind.test is not allowed"):
        await remote.fetch("http://rebind.test:%d/files/a.txt" % http_files.port,
                           str(tmp_path / "in"))


async def test_credentials_do_not_follow_a_redirect_to_another_host(
        tmp_path: Path, http_files: HttpFiles) -> None:
    http_files.write("secret.txt", b"s3cret")
    entry = "127.0.0.1:%d=alice:%s" % (http_files.port, http_files.password)
    remote = RemoteData(settings_for(tmp_path, "http://127.0.0.1:*", "http://localhost:*",
                                     storage_auth=(entry,)))
    elsewhere = "http://localhost:%d/private/secret.txt" % http_files.port
    with pytest.raises(RemoteRefused, match="401"):
        await remote.fetch(redirect(http_files, elsewhere), str(tmp_path / "in"))
    same_host = "%s/private/secret.txt" % http_files.url
    fetched = await remote.fetch(redirect(http_files, same_host), str(tmp_path / "in"))
    assert Path(fetched.path).read_bytes() == b"s3cret"


@pytest.mark.usefixtures("public_loopback")
async def test_a_host_name_with_public_addresses_is_fetched(
        tmp_path: Path, http_files: HttpFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    # the production path: --remote-private off, a name resolved where aiohttp connects
    lookups = []

    def lookup(host: str, port: int, family: int = 0) -> list[tuple[int, str]]:
        lookups.append(host)
        return [(socket.AF_INET, "127.0.0.1")]  # public here (see public_loopback)

    monkeypatch.setattr(addresses_module, "lookup", lookup)
    http_files.write("a.txt", b"a")
    remote = RemoteData(settings_for(tmp_path, "http://files.test:*", remote_private=False))
    fetched = await remote.fetch("http://files.test:%d/files/a.txt" % http_files.port,
                                 str(tmp_path / "in"))
    assert Path(fetched.path).read_bytes() == b"a"
    assert len(lookups) >= 2  # checked first, then resolved again when connecting


async def test_the_head_follows_redirects(tmp_path: Path, http_files: HttpFiles) -> None:
    # The metadata comes from the HEAD at the end of the redirects: the file is read once.
    http_files.write("a.txt", b"abc")
    remote = RemoteData(settings_for(tmp_path, http_files.url + "/redirect",
                                     http_files.url + "/files"))
    start = redirect(http_files, http_files.url + "/files/a.txt")
    first = await remote.fetch(start, str(tmp_path / "in"))
    again = await remote.fetch(start, str(tmp_path / "in"))
    assert (first.from_cache, again.from_cache) == (False, True)
    assert (http_files.gets["/redirect"], http_files.gets["/files/a.txt"]) == (1, 1)


@pytest.mark.parametrize("head", ["refused", "no size"])
async def test_a_storage_without_a_useful_head_is_asked_with_a_get(
        tmp_path: Path, aiohttp_server: Any, head: str) -> None:
    gets = []

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.method == "HEAD":
            if head == "refused":
                raise web.HTTPMethodNotAllowed("HEAD", ["GET"])
            return web.Response(headers={"ETag": '"v0"'})  # no Content-Length
        gets.append(request.path)
        return web.Response(body=b"1,2\n", headers={"ETag": '"v1"'},
                            content_type="text/csv")

    app = web.Application()
    app.router.add_route("*", "/data", handle)
    server = await aiohttp_server(app)
    url = "http://127.0.0.1:%d" % server.port
    remote = RemoteData(settings_for(tmp_path, url))
    first = await remote.fetch(url + "/data", str(tmp_path / "in"))
    assert Path(first.path).read_bytes() == b"1,2\n"
    assert (first.original_filename, first.content_type) == ("data", "text/csv")
    assert len(gets) == 2  # the GET for the metadata, its body unread, then the download
    again = await remote.fetch(url + "/data", str(tmp_path / "in"))
    assert again.from_cache and len(gets) == 3  # the ETag of the GET told the version

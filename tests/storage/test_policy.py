"""What a client may make the server fetch: patterns, credentials, internal addresses."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from deepaas.exceptions import ConfigError, RemoteRefused, RemoteUnavailable
from deepaas.storage import RemoteData, looks_like_url
from deepaas.storage import addresses as addresses_module
from deepaas.storage.addresses import address_problem
from deepaas.storage.policy import Policy, credentials_for, redact
from tests.storage import settings_for
from tests.storageservers import HttpFiles


def refusal(policy: Policy, url: str) -> str:
    with pytest.raises(RemoteRefused) as caught:
        policy.target(url)
    return caught.value.message


def test_remote_data_is_off_by_default(tmp_path: Path) -> None:
    remote = RemoteData(settings_for(tmp_path))
    assert not remote.enabled
    assert "remote data is off on this server" in refusal(Policy(()), "https://x.org/a")


@pytest.mark.parametrize("value, expected", [
    ("https://x.org/a.csv", True), ("HTTP://x.org/a", True), ("webdav://h/p", True),
    ("webdavs://h/p", True), ("ftp://x.org/a", False), ("a,b\n1,2\n", False),
    (b"https://x.org/a", False), (None, False), (" https://x.org", False),
])
def test_looks_like_url(value: object, expected: bool) -> None:
    assert looks_like_url(value) is expected


def test_scheme_must_match_exactly() -> None:
    policy = Policy(["https://files.example.org"])
    assert "host files.example.org is not allowed for http://" in refusal(
        policy, "http://files.example.org/a")
    assert "not allowed" in refusal(policy, "webdavs://files.example.org/a")
    assert "http, https, webdav or webdavs" in refusal(policy, "ftp://files.example.org/a")
    assert policy.target("HTTPS://Files.Example.org/a").host == "files.example.org"


def test_host_patterns_and_the_allowed_list_in_the_message() -> None:
    policy = Policy(["https://*.example.org", "webdavs://cloud.example.com"])
    assert policy.target("https://a.b.example.org/x").url == "https://a.b.example.org/x"
    message = refusal(policy, "https://example.org.evil.net/x")
    assert message == ("host example.org.evil.net is not allowed for https:// (allowed: "
                       "https://*.example.org, webdavs://cloud.example.com)")
    assert "not allowed" in refusal(policy, "https://example.org/x")  # no subdomain


def test_ports_default_to_the_schemes_own() -> None:
    policy = Policy(["https://a.example.org", "http://127.0.0.1:*", "webdav://dav.example.org:8080"])
    assert policy.target("https://a.example.org:443/x").port == 443
    assert "port 8443 of host a.example.org is not allowed" in refusal(
        policy, "https://a.example.org:8443/x")
    assert policy.target("http://127.0.0.1:5000/x").port == 5000
    assert policy.target("webdav://dav.example.org:8080/x").port == 8080
    assert "port 80 of host" in refusal(policy, "webdav://dav.example.org/x")


def test_path_prefixes_and_path_patterns() -> None:
    policy = Policy(["https://files.example.org/datasets", "https://img.example.org/pub/*.png"])
    assert policy.target("https://files.example.org/datasets/a/b.csv")
    assert policy.target("https://files.example.org/datasets")
    assert "path /datasets-private/a on host" in refusal(
        policy, "https://files.example.org/datasets-private/a")
    assert "not allowed" in refusal(policy, "https://files.example.org/")
    assert policy.target("https://img.example.org/pub/x.png")
    assert "not allowed" in refusal(policy, "https://img.example.org/pub/x.jpg")
    # '..' (even encoded) cannot climb out of an allowed prefix
    assert "'..'" in refusal(policy, "https://files.example.org/datasets/../secret")
    assert "'..'" in refusal(policy, "https://files.example.org/datasets/%2e%2e/secret")


def test_credentials_in_urls_are_refused_without_being_echoed() -> None:
    message = refusal(Policy(["https://*"]), "https://bob:hunter2@files.example.org/a")
    assert "credentials in URLs are not accepted" in message
    assert "hunter2" not in message and "bob" not in message
    assert "https://files.example.org/a" in message


def test_bad_patterns_are_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SCHEME://HOST"):
        RemoteData(settings_for(tmp_path, "files.example.org"))
    with pytest.raises(ConfigError):
        Policy(["ftp://files.example.org"])


def test_share_links_are_fetched_at_their_download_address() -> None:
    policy = Policy(["https://cloud.example.org"])
    for link, fetched in [
        ("https://cloud.example.org/s/AbC123", "https://cloud.example.org/s/AbC123/download"),
        ("https://cloud.example.org/index.php/s/AbC123/",
         "https://cloud.example.org/index.php/s/AbC123/download"),
        ("https://cloud.example.org/s/AbC123/download",
         "https://cloud.example.org/s/AbC123/download"),
        ("https://cloud.example.org/files/s.csv", "https://cloud.example.org/files/s.csv"),
    ]:
        assert policy.target(link).fetch_url == fetched
    dav = Policy(["webdavs://cloud.example.org"]).target("webdavs://cloud.example.org/d/a b")
    assert (dav.fetch_url, dav.base_url, dav.path) == (
        "https://cloud.example.org/d/a b", "https://cloud.example.org", "/d/a b")


def test_credentials_are_matched_by_host_and_port() -> None:
    entries = ["*.example.org=ann:p:w", "files.example.org:8443=bob:secret", "other=x:y"]
    assert credentials_for(entries, "a.example.org", 443) == ("ann", "p:w")
    assert credentials_for(entries, "files.example.org", 8443) == ("bob", "secret")
    assert credentials_for(entries, "files.example.org", 443) == ("ann", "p:w")
    assert credentials_for(entries, "example.net", 443) is None
    assert credentials_for(["[::1]:8080=c:d"], "::1", 8080) == ("c", "d")


def test_redact_strips_userinfo() -> None:
    assert redact("webdavs://u:pw@host:1/a?b=c") == "webdavs://host:1/a?b=c"
    assert redact("https://host/a") == "https://host/a"


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.1", "private"),
    ("192.168.1.5", "private"), ("169.254.169.254", "link-local"), ("fe80::1%eth0", "link-local"),
    ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"), ("::ffff:127.0.0.1", "loopback"),
    ("100.64.0.1", "non-public"), ("fd00::1", "private"), ("1.1.1.1", None),
    ("2606:4700:4700::1111", None),
])
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_problem(address) == kind


@pytest.mark.parametrize("address, kind", [
    ("2002:7f00:1::", "loopback"), ("2002:a00:1::", "private"),  # 6to4: 127.0.0.1, 10.0.0.1
    ("2002:a9fe:a9fe::1", "link-local"), ("2002:808:808::1", None),  # 8.8.8.8: public
    ("64:ff9b::7f00:1", "loopback"), ("64:ff9b::a00:1", "private"),  # NAT64
    ("64:ff9b::808:808", None),  # what DNS64 answers for a public IPv4-only host
    ("64:ff9b:1:7f00:0:100::", "loopback"),  # local-use NAT64 (RFC 8215), /48 layout
    ("::7f00:1", "loopback"), ("::a00:1", "private"),  # IPv4-compatible
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1
    ("2001:0:7f00:1:8000:63bf:f7f7:f7f7", "loopback"),  # Teredo, server 127.0.0.1
])
def test_ipv6_addresses_that_carry_an_ipv4_one_are_judged_by_it(address: str,
                                                                 kind: str | None) -> None:
    assert address_problem(address) == kind


@pytest.mark.parametrize("address", [
    "2001:0:808:808:8000:63bf:f7f7:f7f7",  # Teredo between public addresses (8.8.8.8)
    "64:ff9b:1:808:8:800::",  # local-use NAT64 of 8.8.8.8: the operator's own translator
    "::808:808",  # IPv4-compatible, deprecated since 2006
])
def test_teredo_local_nat64_and_ipv4_compatible_are_never_public(address: str) -> None:
    assert address_problem(address) is not None


async def test_internal_addresses_are_refused_before_any_connection(
        tmp_path: Path, http_files: HttpFiles) -> None:
    port = http_files.port
    remote = RemoteData(settings_for(tmp_path, "http://*:*", remote_private=False))
    url = http_files.write("a.txt", b"a")
    with pytest.raises(RemoteRefused, match="127.0.0.1 is a loopback address"):
        await remote.fetch(url, str(tmp_path / "in"))
    with pytest.raises(RemoteRefused, match=r"the address of host localhost is not allowed"):
        await remote.fetch("http://localhost:%d/files/a.txt" % port, str(tmp_path / "in"))
    with pytest.raises(RemoteRefused, match="10.0.0.1 is a private address"):
        await remote.fetch("http://10.0.0.1:%d/files/a.txt" % port, str(tmp_path / "in"))
    assert http_files.gets["/files/a.txt"] == 0 and remote.downloads == 0

    with_private = RemoteData(settings_for(tmp_path, "http://*:*", remote_private=True))
    fetched = await with_private.fetch(url, str(tmp_path / "in"))
    assert Path(fetched.path).read_bytes() == b"a"


async def test_a_name_with_one_private_address_among_public_ones_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def lookup(host: str, port: int, family: int = 0) -> list[tuple[int, str]]:
        assert host == "files.example.org"
        return [(socket.AF_INET, "1.1.1.1"), (socket.AF_INET, "10.1.2.3")]

    monkeypatch.setattr(addresses_module, "lookup", lookup)
    remote = RemoteData(settings_for(tmp_path, "https://files.example.org",
                                     remote_private=False))
    with pytest.raises(RemoteRefused) as caught:
        await remote.fetch("https://files.example.org/a.csv", str(tmp_path / "in"))
    # what the name resolves to is the server's business: never told to the client
    assert caught.value.message == ("the address of host files.example.org is not allowed: "
                                    "this server does not fetch from internal addresses")
    assert caught.value.status == 403


async def test_a_name_that_does_not_resolve_is_unavailable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def lookup(host: str, port: int, family: int = 0) -> list[tuple[int, str]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(addresses_module, "lookup", lookup)  # no DNS server asked
    remote = RemoteData(settings_for(tmp_path, "https://*.invalid", remote_private=False))
    with pytest.raises(RemoteUnavailable, match="host nowhere.invalid could not be resolved"):
        await remote.fetch("https://nowhere.invalid/a.csv", str(tmp_path / "in"))

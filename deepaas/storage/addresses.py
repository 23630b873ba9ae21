"""Keeping clients' URLs away from internal services (unless ``--remote-private``).

A client that may name a URL could otherwise make the server probe its own network: the
loopback interface, the cloud metadata service at 169.254.169.254, databases on private
addresses. A host is refused when ANY of its addresses is not a public one, since a client
does not choose which address the server connects to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import TYPE_CHECKING

from aiohttp.abc import AbstractResolver

from deepaas.exceptions import RemoteRefused, RemoteUnavailable

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

__all__ = ["address_problem", "is_literal", "lookup", "refuse_forbidden", "allowed_addresses",
           "check_host", "GuardedResolver"]

_log = logging.getLogger(__name__)
_KINDS = ("loopback", "link_local", "multicast", "unspecified", "reserved", "private")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215, for local use
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 "IPv4-compatible", deprecated


def address_problem(address: str) -> str | None:
    """What kind of non-public address this is (``"loopback"``, ``"private"``...), or None.

    An IPv6 address that carries an IPv4 address (see :func:`_embedded`) is judged by that
    one as well: ``2002:7f00:1::`` (6to4) leads to 127.0.0.1 through a relay, and is as
    internal as 127.0.0.1 itself.
    """
    ip = ipaddress.ip_address(address.partition("%")[0])  # an IPv6 scope id is no part of it
    if isinstance(ip, ipaddress.IPv4Address):
        return _kind(ip)
    if ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 IS 127.0.0.1 to the socket
        return _kind(ip.ipv4_mapped)
    if ip in _NAT64:
        # The well-known NAT64 prefix: on an IPv6-only network with DNS64 every public
        # IPv4-only host is reached this way, so it is judged by the IPv4 address alone
        # (Python calls the whole of ::/8 reserved).
        return _kind(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    embedded: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [*_embedded(ip), ip]
    for inner in embedded:  # the embedded first: it names the better reason
        kind = _kind(inner)
        if kind is not None:
            return kind
    return None


def _kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    for kind in _KINDS:
        if getattr(ip, "is_" + kind):
            return kind.replace("_", "-")
    # Ranges that are neither of the above nor public (100.64.0.0/10, carrier-grade NAT).
    return None if ip.is_global else "non-public"


def _embedded(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: 6to4 (2002::/16), both ends of Teredo
    (2001::/32), local NAT64 (64:ff9b:1::/48) and IPv4-compatible (::/96).

    These prefixes are non-public themselves (Python's tables: 2001::/23 and ::/8), except
    6to4, so the embedded address mostly changes the reason given, not the answer; it is
    checked all the same, as Python's tables differ from one version to the next.
    """
    found = []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client); the client's is stored inverted
    value = int(ip)
    if ip in _NAT64_LOCAL:  # RFC 6052 /48 layout: bits 48-63 and 72-87, "u" octet between
        found.append(ipaddress.IPv4Address(((value >> 64) & 0xFFFF) << 16
                                           | (value >> 40) & 0xFFFF))
    if ip in _COMPATIBLE and value > 1:  # :: and ::1 are what they are
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    return found


def lookup(host: str, port: int, family: int = socket.AF_UNSPEC) -> list[tuple[int, str]]:
    """``(family, address)`` of every address of host: a blocking call, run it in a thread."""
    infos = socket.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
    return list(dict.fromkeys((int(info[0]), str(info[4][0])) for info in infos))


def refuse_forbidden(host: str, addresses: list[str]) -> None:
    """Raise RemoteRefused when one of host's addresses is not public.

    The message never says what a name resolves to: that would let a client map the
    server's internal network through its DNS. The log (for the operator) does.
    """
    for address in addresses:
        kind = address_problem(address)
        if kind is None:
            continue
        if host == address:  # an IP literal: the client wrote it, nothing is revealed
            what = "%s is a %s address" % (host, kind)
        else:
            _log.warning("remote data: %s resolves to a %s address (%s): refused", host, kind,
                         address)
            what = "the address of host %s is not allowed" % host
        raise RemoteRefused(what + ": this server does not fetch from internal addresses")


def is_literal(host: str) -> bool:
    """Whether host is an IP address rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_addresses(host: str, port: int) -> list[str]:
    """Every address of host (an IP literal: itself), refused unless all are public.

    A blocking call (DNS): run it in a thread. Raises RemoteRefused, or RemoteUnavailable
    when the name does not resolve.
    """
    if is_literal(host):
        refuse_forbidden(host, [host])
        return [host]
    try:
        found = [address for _, address in lookup(host, port)]
    except OSError as exc:
        raise RemoteUnavailable("host %s could not be resolved (%s)"
                                % (host, exc.strerror or exc)) from None
    refuse_forbidden(host, found)
    return found


async def check_host(host: str, port: int) -> None:
    """Resolve host (in a thread) and refuse it when any address is not public.

    This answers the client with a clear message before any connection is made; the
    connections themselves are guarded again (see ``deepaas.storage.fetch`` and
    ``deepaas.storage.webdav``), since DNS may answer differently a moment later and
    redirects lead to other hosts.
    """
    await asyncio.to_thread(allowed_addresses, host, port)


class GuardedResolver(AbstractResolver):
    """Resolves host names as aiohttp does, then refuses a host with a non-public address.

    Checking where aiohttp connects covers every hop of a redirect, and DNS answers that
    change after the first check (rebinding). aiohttp resolves no IP literals: redirects to
    those are checked by ``deepaas.storage.fetch.HttpSource``.
    """

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET
                      ) -> list[ResolveResult]:
        found = await asyncio.to_thread(lookup, host, port, family)
        refuse_forbidden(host, [address for _, address in found])
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [{"hostname": host, "host": address, "port": port, "family": fam, "proto": 0,
                 "flags": flags} for fam, address in found]

    async def close(self) -> None:
        pass

"""Which URLs a client may make the server fetch, and with which credentials.

``--remote-data`` patterns read ``SCHEME://HOST[:PORT][/PATH]``: the scheme must be equal, the
host and the port are ``fnmatch`` patterns (no port: the scheme's default port only), and a path
is a prefix (``/datasets``) or, when it holds wildcards, a pattern (``/datasets/*.csv``).
Everything here is pure string work: the address checks live in
:mod:`deepaas.storage.addresses`.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import urllib.parse
from collections.abc import Iterable

from deepaas.exceptions import ConfigError, RemoteRefused

__all__ = ["Target", "Policy", "credentials_for", "redact", "split_url", "DEFAULT_PORTS"]

#: Schemes a client may use, the HTTP scheme each is spoken over, and its default port.
DEFAULT_PORTS = {"http": 80, "https": 443, "webdav": 80, "webdavs": 443}
_OVER_HTTP = {"http": "http", "https": "https", "webdav": "http", "webdavs": "https"}

# Nextcloud public share links (``/s/TOKEN``, maybe under /index.php or a subfolder) lead to
# a web page; the file itself is at the same link plus ``/download``.
_SHARE_LINK = re.compile(r"(?:/.*)?/s/[A-Za-z0-9]+/?")


def redact(url: str) -> str:
    """The URL without its ``user:password@`` part: the only form fit for messages and logs."""
    scheme, netloc, path, query, fragment = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((scheme, netloc.rpartition("@")[2], path, query, fragment))


def split_url(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` of a URL, lower-cased, the default port filled in.

    Raises ValueError for a URL that is not one of the supported schemes with a host.
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("not an http, https, webdav or webdavs URL with a host")
    return scheme, parts.hostname.lower(), parts.port or DEFAULT_PORTS[scheme], parts.path


@dataclasses.dataclass(frozen=True)
class Target:
    """A URL a client sent, checked against the patterns; it never holds credentials."""

    url: str  # as sent, normalised: what messages, logs and the cache key use
    scheme: str  # http, https, webdav or webdavs
    host: str
    port: int
    path: str  # decoded
    fetch_url: str  # the http(s) URL really requested (a share link gets its /download)

    @property
    def webdav(self) -> bool:
        return self.scheme.startswith("webdav")

    @property
    def base_url(self) -> str:
        """``http(s)://host:port``: where a WebDAV client starts."""
        return urllib.parse.urlsplit(self.fetch_url)._replace(path="", query="").geturl()


@dataclasses.dataclass(frozen=True)
class _Pattern:
    text: str
    scheme: str
    host: str
    port: str  # "" = the scheme's default port
    path: str  # "" = any path

    @classmethod
    def parse(cls, text: str) -> _Pattern:
        scheme, sep, rest = text.partition("://")
        netloc, _, path = rest.partition("/")
        host, port = _split_netloc(netloc)
        if not sep or scheme.lower() not in DEFAULT_PORTS or not host or "@" in netloc:
            raise ConfigError("--remote-data: %r is not SCHEME://HOST[:PORT][/PATH] with a "
                              "scheme of http, https, webdav or webdavs" % text)
        return cls(text, scheme.lower(), host.lower(), port, "/" + path if path else "")

    def host_matches(self, scheme: str, host: str) -> bool:
        return scheme == self.scheme and fnmatch.fnmatchcase(host, self.host)

    def port_matches(self, port: int) -> bool:
        if not self.port:
            return port == DEFAULT_PORTS[self.scheme]
        return fnmatch.fnmatchcase(str(port), self.port)

    def path_matches(self, path: str) -> bool:
        if not self.path or self.path == "/":
            return True
        if any(c in self.path for c in "*?["):
            return fnmatch.fnmatchcase(path, self.path)
        prefix = self.path.rstrip("/")
        return path == prefix or path.startswith(prefix + "/")


def _split_netloc(netloc: str) -> tuple[str, str]:
    if netloc.startswith("["):  # an IPv6 address
        host, _, rest = netloc[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    host, _, port = netloc.partition(":")
    return host, port


def credentials_for(entries: Iterable[str], host: str, port: int) -> tuple[str, str] | None:
    """The ``(user, password)`` of the first ``HOST=USER:PASSWORD`` entry naming this host.

    HOST is an ``fnmatch`` pattern, maybe with a port (``host:8443``, ``*:8443``, ``[::1]:80``).
    Entries naming a port are tried before those naming the host alone, so that a specific
    entry wins over a general one.
    """
    parsed = []
    for entry in entries:
        where, _, credentials = entry.partition("=")
        parsed.append((*_split_netloc(where.lower()), credentials))
    for with_port in (True, False):
        for host_pattern, port_pattern, credentials in parsed:
            if (bool(port_pattern) == with_port and fnmatch.fnmatchcase(host, host_pattern)
                    and fnmatch.fnmatchcase(str(port), port_pattern or "*")):
                user, _, password = credentials.partition(":")
                return user, password
    return None


class Policy:
    """What ``--remote-data`` allows: checks URLs before any connection is made."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns = tuple(_Pattern.parse(text) for text in patterns)

    @property
    def enabled(self) -> bool:
        return bool(self._patterns)

    def target(self, url: str) -> Target:
        """Check a URL a client sent; raises RemoteRefused with a message fit for the client."""
        if not self._patterns:
            raise RemoteRefused("remote data is off on this server: send the file itself")
        parts = urllib.parse.urlsplit(url)
        if parts.username is not None or parts.password is not None:
            raise RemoteRefused("credentials in URLs are not accepted (%s): the server holds "
                                "those of the storages it may use" % redact(url))
        try:
            scheme, host, port, _ = split_url(url)
        except ValueError as exc:
            raise RemoteRefused("%s: %s" % (redact(url), exc)) from None
        path = urllib.parse.unquote(parts.path) or "/"
        reason = self.refusal(scheme, host, port, path)
        if reason:
            raise RemoteRefused(reason)
        shown = urllib.parse.urlunsplit((scheme, parts.netloc.lower(), parts.path, parts.query,
                                         ""))
        return Target(url=shown, scheme=scheme, host=host, port=port, path=path,
                      fetch_url=self._fetch_url(parts, scheme))

    def refusal(self, scheme: str, host: str, port: int, path: str) -> str | None:
        """Why this URL is not allowed, or None when a pattern allows it."""
        if ".." in path.split("/"):
            return "paths with '..' are not accepted"
        hosts = [p for p in self._patterns if p.host_matches(scheme, host)]
        allowed = "allowed: %s" % ", ".join(p.text for p in self._patterns)
        if not hosts:
            return "host %s is not allowed for %s:// (%s)" % (host, scheme, allowed)
        ports = [p for p in hosts if p.port_matches(port)]
        if not ports:
            return "port %d of host %s is not allowed (%s)" % (port, host, allowed)
        if not any(p.path_matches(path) for p in ports):
            return "path %s on host %s is not allowed (%s)" % (path, host, allowed)
        return None

    @staticmethod
    def _fetch_url(parts: urllib.parse.SplitResult, scheme: str) -> str:
        path = parts.path or "/"
        if scheme in ("http", "https") and not parts.query and _SHARE_LINK.fullmatch(path):
            path = path.rstrip("/") + "/download"
        return urllib.parse.urlunsplit((_OVER_HTTP[scheme], parts.netloc, path, parts.query,
                                        ""))

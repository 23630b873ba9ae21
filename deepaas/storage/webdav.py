"""WebDAV through webdav4's fsspec filesystem: reading one file, and the filesystem uploads use.

webdav4 is synchronous (httpx): every call runs in a thread, never on the server's loop. For
clients' URLs, httpx connects through :class:`_GuardedBackend`, which resolves the name itself
and checks the addresses at connect time, as aiohttp's guarded resolver does for HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import httpcore
import httpx
from webdav4.client import (
    BadGatewayError,
    HTTPError,
    InsufficientStorage,
    IsACollectionError,
    ResourceNotFound,
)
from webdav4.fsspec import WebdavFileSystem

from deepaas.exceptions import (
    RemoteDataError,
    RemoteNotFound,
    RemoteRefused,
    RemoteTimeout,
    RemoteUnavailable,
)
from deepaas.storage import addresses
from deepaas.storage.fetch import CHUNK, RemoteInfo, status_error, too_large, validator
from deepaas.storage.policy import Target, redact

__all__ = ["WebdavSource", "webdav_filesystem", "webdav_error"]

_T = TypeVar("_T")


class _Redirected(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class _Stopped(Exception):
    """The fetch that wanted these bytes is gone (timed out or cancelled)."""


def _refuse_redirect(response: httpx.Response) -> None:
    # webdav4 asks httpx to follow redirects when it reads a file: a redirect could lead to an
    # internal address that no check has seen, so none is followed.
    if response.is_redirect:
        raise _Redirected(response.headers.get("Location", ""))


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sockets, connected only to addresses checked at connect time.

    The name is resolved here, its addresses refused unless all are public, and the socket
    connected to a checked address: a DNS answer that changes between the first check and
    the connection (rebinding) cannot lead inside. The request keeps the name: httpcore
    builds the Host header and the TLS server name from the URL, not from the socket.
    """

    def __init__(self) -> None:
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        error: httpcore.ConnectError | None = None
        for address in addresses.allowed_addresses(host, port):
            try:
                return self._sockets.connect_tcp(address, port, timeout, local_address,
                                                 socket_options)
            except httpcore.ConnectError as exc:  # the next address may answer
                error = exc
        assert error is not None  # allowed_addresses answers one address at least
        raise error


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over :class:`_GuardedBackend`."""

    def __init__(self) -> None:
        context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=context, trust_env=False)
        # httpx offers no way to hand httpcore a network backend: its pool is replaced by
        # one with the same settings (httpx's default limits) and the guarded backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=context, max_connections=100, max_keepalive_connections=20,
            keepalive_expiry=5.0, network_backend=_GuardedBackend())


def webdav_filesystem(base_url: str, credentials: tuple[str, str] | None,
                      timeout: float, guarded: bool = False) -> WebdavFileSystem:
    """A filesystem on ``base_url`` that follows no redirect and reads nothing from the
    environment (no proxy, no .netrc); close it with ``fs.client.http.close()``.

    ``guarded``: connect only to public addresses, checked when connecting (a client's URL
    without ``--remote-private``).
    """
    options: dict[str, Any] = {"transport": _GuardedTransport()} if guarded else {}
    return WebdavFileSystem(base_url, auth=credentials, retry=False, timeout=timeout,
                            trust_env=False, follow_redirects=False,
                            event_hooks={"response": [_refuse_redirect]},
                            skip_instance_cache=True, **options)


def webdav_error(exc: BaseException, url: str) -> RemoteDataError:
    """The deepaas error for what webdav4 or httpx raised; never a credential in it."""
    if isinstance(exc, RemoteDataError):
        return exc
    cause = exc.__cause__ or exc.__context__
    for _ in range(10):  # a guard's refusal, wrapped by httpx, webdav4 or fsspec
        if cause is None:
            break
        if isinstance(cause, RemoteDataError):
            return type(cause)(cause.message)  # a new one: the chain holds the request
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, _Redirected):
        return RemoteRefused("%s redirects to %s; redirects are not followed for WebDAV"
                             % (url, redact(exc.location)))
    if isinstance(exc, (FileNotFoundError, ResourceNotFound)):
        return RemoteNotFound("no file at %s (404)" % url)
    if isinstance(exc, (IsADirectoryError, IsACollectionError)):
        return RemoteNotFound("%s is a folder, not a file" % url)
    if isinstance(exc, HTTPError):
        return status_error(exc.status_code, exc.response.reason_phrase, url)
    if isinstance(exc, httpx.HTTPStatusError):
        return status_error(exc.response.status_code, exc.response.reason_phrase, url)
    if isinstance(exc, BadGatewayError):
        return status_error(502, "Bad Gateway", url)
    if isinstance(exc, InsufficientStorage):
        return status_error(507, "Insufficient Storage", url)
    if isinstance(exc, httpx.TimeoutException):
        return RemoteTimeout("%s did not answer in time" % url)
    if isinstance(exc, (httpx.TransportError, OSError)):
        return RemoteUnavailable("cannot reach %s (%s)" % (url, exc or type(exc).__name__))
    return RemoteUnavailable("%s: %s" % (url, exc or type(exc).__name__))


class WebdavSource:
    """A file at a webdav(s):// URL: PROPFIND for its metadata, GET for its bytes."""

    def __init__(self, target: Target, credentials: tuple[str, str] | None,
                 timeout: float, private: bool) -> None:
        self._target = target
        self._fs = webdav_filesystem(target.base_url, credentials, timeout,
                                     guarded=not private)
        # Set when the fetch ends, so that a download thread it left behind stops.
        self._stop = threading.Event()

    async def info(self) -> RemoteInfo:
        found = await self._call(self._fs.info, self._target.path)
        if found.get("type") != "file":
            raise RemoteNotFound("%s is a folder, not a file" % self._target.url)
        modified = found.get("modified")
        size = found.get("size")
        return RemoteInfo(size, validator(found.get("etag"), size,
                                          modified.isoformat() if modified else None),
                          found.get("content_type"))

    async def download(self, dest: Path, limit: int) -> RemoteInfo:
        total = await self._call(self._copy, dest, limit)
        return RemoteInfo(total, None)

    async def close(self) -> None:
        self._stop.set()
        self._fs.client.http.close()

    def _copy(self, dest: Path, limit: int) -> int:
        total = 0
        with self._fs.open(self._target.path, "rb") as remote, open(dest, "wb") as out:
            while chunk := remote.read(CHUNK):
                if self._stop.is_set():
                    raise _Stopped()
                total += len(chunk)
                if total > limit:
                    raise too_large(self._target.url, limit, None)
                out.write(chunk)
        return total

    async def _call(self, function: Callable[..., _T], *args: Any) -> _T:
        try:
            return await asyncio.to_thread(function, *args)
        except Exception as exc:
            # A new error, without the chain: httpx's errors hold the request, credentials
            # included.
            raise webdav_error(exc, self._target.url) from None

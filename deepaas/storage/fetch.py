"""Reading one remote file over HTTP(S) with aiohttp: its metadata, then its bytes, within limits.

Also the pieces every source shares: :class:`RemoteInfo`, the size checks and the mapping of a
storage's HTTP status to deepaas's errors.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import email.message
import logging
import urllib.parse
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import aiohttp
import yarl

from deepaas.exceptions import (
    RemoteDataError,
    RemoteNotFound,
    RemoteRefused,
    RemoteTimeout,
    RemoteTooLarge,
    RemoteUnavailable,
)
from deepaas.storage import addresses
from deepaas.storage.policy import Policy, Target, redact, split_url

__all__ = ["RemoteInfo", "Source", "HttpSource", "CHUNK", "validator", "check_size",
           "too_large", "status_error", "name_from_path"]

CHUNK = 1 << 20  # bytes read, and written to disk, at a time

_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RemoteInfo:
    """What the storage says about a file: before a download (HEAD, PROPFIND) or during one."""

    size: int | None
    validator: str | None  # ETag, else size and modification time; None: versions unknowable
    content_type: str | None = None
    filename: str | None = None  # from Content-Disposition


class Source(Protocol):
    """One remote file, read by one fetch: ``info()``, maybe ``download()``, then ``close()``."""

    async def info(self) -> RemoteInfo: ...

    async def download(self, dest: Path, limit: int) -> RemoteInfo: ...

    async def close(self) -> None: ...


def validator(etag: str | None, size: int | None, modified: str | None) -> str | None:
    """How the cache tells versions of a file apart: the ETag, else size and modification time."""
    if etag:
        return "etag " + etag
    if modified:
        return "size %s, modified %s" % (size, modified)
    return None


def _human(size: int) -> str:
    if size < 1024:
        return "%d bytes" % size
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return "%.1f %s" % (value, unit)


def check_size(url: str, size: int | None, limit: int) -> None:
    """Refuse a file whose announced size is past the limit, before downloading it."""
    if size is not None and size > limit:
        raise RemoteTooLarge("file is %s, more than the limit of %s (%s)"
                             % (_human(size), _human(limit), url))


def too_large(url: str, limit: int, announced: int | None) -> RemoteTooLarge:
    """The error for a download that went past the limit: the storage announced less."""
    said = "no size" if announced is None else _human(announced)
    return RemoteTooLarge("%s sent more than the limit of %s (it announced %s)"
                          % (url, _human(limit), said))


def status_error(status: int, reason: str, url: str) -> RemoteDataError:
    """The error for a storage's answer with an HTTP error status."""
    said = "%d %s" % (status, reason) if reason else str(status)
    if status in (404, 410):
        return RemoteNotFound("no file at %s (%s)" % (url, said))
    if status in (401, 403):
        return RemoteRefused("the storage refused access to %s (%s): the server's credentials "
                             "for it are missing or wrong" % (url, said))
    return RemoteUnavailable("the storage answered %s for %s" % (said, url))


def name_from_path(path: str) -> str | None:
    """The last segment of a URL path, decoded; None when there is none."""
    return _clean_name(PurePosixPath(urllib.parse.unquote(path)).name)


def _clean_name(name: str | None) -> str | None:
    # A name only: a storage must not be able to name a path (../../etc/passwd).
    name = (name or "").replace("\\", "/").rpartition("/")[2]
    name = "".join(c for c in name if c.isprintable()).strip()[:255]
    return name if name not in ("", ".", "..") else None


def _disposition_name(value: str | None) -> str | None:
    if not value:
        return None
    message = email.message.Message()
    message["Content-Disposition"] = value
    return _clean_name(message.get_filename())  # handles filename*=UTF-8''... too


class HttpSource:
    """A file at an http(s) URL, read with aiohttp on the running loop: HEAD, then a GET.

    One session per fetch: it belongs to the loop of this fetch, and its guards to this
    target. Its resolver checks every address aiohttp connects to, redirects included, and
    its trace hook checks every redirect hop against the patterns.
    """

    def __init__(self, target: Target, policy: Policy, credentials: tuple[str, str] | None,
                 private: bool) -> None:
        self._target = target
        self._policy = policy
        self._private = private
        # Headers of the session, sent with every request of it; aiohttp drops Authorization
        # on a redirect to another host. Identity: the size limit counts the bytes of the
        # file, not of a compressed form.
        self._headers = {"Accept-Encoding": "identity"}
        if credentials:
            token = base64.b64encode(":".join(credentials).encode("utf-8")).decode("ascii")
            self._headers["Authorization"] = "Basic " + token
        self._session: aiohttp.ClientSession | None = None

    async def info(self) -> RemoteInfo:
        # HEAD first; a storage that refuses HEAD, or answers it without a size, is asked
        # with a GET whose body is never read. A guard's refusal would only be repeated.
        found: dict[str, Any] = {}
        try:
            found.update(await self._ask("HEAD"))
        except RemoteDataError as exc:
            raise self._error(exc) from None
        except Exception as exc:
            _log.debug("HEAD %s failed (%s): asking with GET", self._target.url, exc)
        if found.get("size") is None:
            try:
                found.update(await self._ask("GET"))
            except Exception as exc:
                raise self._error(exc, RemoteNotFound("no file at %s" % self._target.url)
                                  ) from None
        size = found.get("size")
        return RemoteInfo(size, validator(found.get("ETag"), size, found.get("Last-Modified")),
                          found.get("mimetype"))

    async def download(self, dest: Path, limit: int) -> RemoteInfo:
        try:
            async with self._client().get(self._target.fetch_url) as response:
                response.raise_for_status()
                return await self._copy(response, dest, limit)
        except RemoteDataError:
            raise
        except Exception as exc:
            raise self._error(exc) from None

    async def _ask(self, method: str) -> dict[str, Any]:
        async with self._client().request(method, self._target.fetch_url,
                                          allow_redirects=True) as response:
            response.raise_for_status()
            return _described(response.headers)

    async def _copy(self, response: aiohttp.ClientResponse, dest: Path,
                    limit: int) -> RemoteInfo:
        headers = response.headers
        announced = None
        if headers.get("Content-Length") and not headers.get("Content-Encoding"):
            announced = int(headers["Content-Length"])
        check_size(self._target.url, announced, limit)
        total, buffer = 0, bytearray()
        with open(dest, "wb") as out:
            async for chunk in response.content.iter_chunked(CHUNK):
                total += len(chunk)
                if total > limit:  # the storage may announce less than it sends
                    raise too_large(self._target.url, limit, announced)
                buffer += chunk
                if len(buffer) >= CHUNK:
                    await asyncio.to_thread(out.write, bytes(buffer))
                    buffer.clear()
            await asyncio.to_thread(out.write, bytes(buffer))
        kind = headers.get("Content-Type", "").partition(";")[0].strip() or None
        return RemoteInfo(total, None, kind, _disposition_name(headers.get(
            "Content-Disposition")))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            trace = aiohttp.TraceConfig()
            trace.on_request_redirect.append(self._on_redirect)
            resolver = None if self._private else addresses.GuardedResolver()
            # No total timeout of aiohttp's own (5 minutes by default): --remote-timeout
            # bounds the whole fetch. trust_env=False: no proxy and no .netrc from the
            # environment.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver), headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None), trace_configs=[trace],
                trust_env=False)
        return self._session

    async def _on_redirect(self, session: aiohttp.ClientSession, context: Any,
                           params: aiohttp.TraceRequestRedirectParams) -> None:
        # Every hop must be allowed as the first was: by the patterns and, for IP literals
        # (which skip the resolver), by address.
        location = params.url.join(yarl.URL(params.response.headers.get("Location", "")))
        shown = redact(str(location))
        try:
            scheme, host, port, path = split_url(str(location))
            if scheme not in ("http", "https"):
                raise ValueError("not an http(s) URL")
        except ValueError as exc:
            raise RemoteRefused("%s redirects to %s: %s" % (self._target.url, shown, exc)
                                ) from None
        reason = self._policy.refusal(scheme, host, port, urllib.parse.unquote(path) or "/")
        if reason:
            raise RemoteRefused("%s redirects to %s, which is refused: %s"
                                % (self._target.url, shown, reason))
        if not self._private and addresses.is_literal(host):
            try:
                addresses.refuse_forbidden(host, [host])
            except RemoteRefused as exc:
                raise RemoteRefused("%s redirects to %s: %s"
                                    % (self._target.url, shown, exc.message)) from None

    def _error(self, exc: BaseException, otherwise: RemoteDataError | None = None
               ) -> RemoteDataError:
        """The deepaas error for what went wrong; ``otherwise`` when nothing known did.

        aiohttp may wrap what went wrong: look down the chain. The errors answered are new
        ones, without the chain: aiohttp's errors hold the request headers, credentials
        included.
        """
        chain: list[BaseException] = []
        cause: BaseException | None = exc
        while cause is not None and len(chain) < 10:
            chain.append(cause)
            cause = cause.__cause__ or cause.__context__
        url = self._target.url
        for error in chain:
            if isinstance(error, RemoteDataError):  # raised by a guard
                return type(error)(error.message)
        for error in chain:
            if isinstance(error, aiohttp.ClientResponseError):
                return status_error(error.status, error.message, url)
            if isinstance(error, asyncio.TimeoutError):
                return RemoteTimeout("%s did not answer in time" % url)
            if isinstance(error, aiohttp.ClientConnectorError):
                return RemoteUnavailable("cannot connect to %s:%s (%s)" % (
                    error.host, error.port, error.os_error.strerror or error.os_error))
            if isinstance(error, aiohttp.ClientError):
                return RemoteUnavailable("%s: %s" % (url, error))
        return otherwise or RemoteUnavailable("%s: %s" % (url, exc))


def _described(headers: Mapping[str, str]) -> dict[str, Any]:
    """What an answer's headers say of the file: size, mimetype, ETag, Last-Modified."""
    found: dict[str, Any] = {}
    if "Content-Length" in headers:
        # A compressed answer announces the size of its compressed form.
        if headers.get("Content-Encoding", "") in ("", "identity"):
            found["size"] = int(headers["Content-Length"])
    elif "Content-Range" in headers:  # bytes 0-99/1234
        found["size"] = int(headers["Content-Range"].split("/")[1])
    if "Content-Type" in headers:
        found["mimetype"] = headers["Content-Type"].partition(";")[0]
    for name in ("ETag", "Last-Modified"):
        if headers.get(name):
            found[name] = headers[name]
    return found

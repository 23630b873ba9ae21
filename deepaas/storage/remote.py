"""File arguments given as URLs: fetched within the server's policy, through the cache.

Build one :class:`RemoteData` per server (or CLI call) from the settings, and hand each URL a
client sent to :meth:`RemoteData.fetch`; the file it answers stands for an upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import mimetypes
import time
from pathlib import Path

from deepaas.exceptions import RemoteTimeout, RemoteUnavailable
from deepaas.storage import addresses
from deepaas.storage.cache import Cache, Entry
from deepaas.storage.fetch import HttpSource, RemoteInfo, Source, check_size, name_from_path
from deepaas.storage.policy import Policy, Target, credentials_for
from deepaas.storage.webdav import WebdavSource

__all__ = ["Fetched", "RemoteData", "RemoteOptions", "looks_like_url"]

_log = logging.getLogger(__name__)
_SCHEMES = ("http://", "https://", "webdav://", "webdavs://")
_UNKNOWN = "application/octet-stream"


@dataclasses.dataclass(frozen=True)
class RemoteOptions:
    """What :class:`RemoteData` needs of the configuration (``--remote-data`` and friends)."""

    patterns: tuple[str, ...]  # allowed scheme://host[:port][/path]; none: remote data off
    cache_dir: Path
    private: bool = False  # internal addresses allowed (an on-premises storage)
    max_size: int = 1024 ** 3
    timeout: float = 300.0
    cache_max_size: int = 10 * 1024 ** 3
    auth: tuple[str, ...] = ()  # HOST=USER:PASSWORD entries


@dataclasses.dataclass(frozen=True)
class Fetched:
    """A remote file, now a local one the caller owns (it may delete or move it)."""

    path: str  # a hard link to the cached copy when possible, else a copy
    original_filename: str  # Content-Disposition, else the URL's last segment, else "download"
    content_type: str  # the storage's, else guessed from the name, else octet-stream
    size: int
    from_cache: bool  # True when nothing was downloaded


def looks_like_url(value: object) -> bool:
    """Whether a file argument's value is a URL to fetch rather than a file's content."""
    return isinstance(value, str) and value[:10].lower().startswith(_SCHEMES)


class RemoteData:
    """Fetches files for clients' URLs: ``--remote-data`` and friends say what and how.

    ``fetch()`` raises the :class:`~deepaas.exceptions.RemoteDataError` subclasses, whose
    messages are fit for the client and never hold a credential. Every fetch asks the storage
    for the file's metadata (HEAD, PROPFIND); the download itself is skipped when the cache
    holds that version. Concurrent fetches of one URL, in this process or others sharing the
    cache folder, download it once.
    """

    def __init__(self, options: RemoteOptions) -> None:
        self._options = options
        self._policy = Policy(options.patterns)  # ConfigError for a malformed pattern
        self._cache = Cache(options.cache_dir, options.cache_max_size,
                            temp_ttl=max(3600.0, 2 * options.timeout))
        self.downloads = 0  # real downloads done by this object
        self.hits = 0  # fetches answered from the cache

    @property
    def enabled(self) -> bool:
        return self._policy.enabled

    @property
    def cache_dir(self) -> Path:
        return self._cache.root

    @property
    def hand_out_dir(self) -> Path:
        """Where fetched files go when no ``--tmp-dir`` is set: beside the cache, so that
        each is a hard link, not a copy of what may be gigabytes of dataset."""
        return self._cache.root / "handed-out"

    @property
    def temp_dirs(self) -> tuple[Path, ...]:
        """Where fetches leave temp files: downloads in progress, and files handed out."""
        return self._cache.root / "tmp", self.hand_out_dir

    async def fetch(self, url: str, into: str) -> Fetched:
        """Fetch ``url`` into a new file in the folder ``into`` (created when missing).

        The policy is checked before any connection; the whole fetch, waiting for another
        fetch of the same URL included, is bounded by ``--remote-timeout``.
        """
        target = self._policy.target(url)
        timeout = self._options.timeout
        try:
            return await asyncio.wait_for(self._fetch(target, into), timeout)
        except asyncio.TimeoutError:
            raise RemoteTimeout("fetching %s took longer than %g s, the limit of this server"
                                % (target.url, timeout)) from None

    async def close(self) -> None:
        """Release what this object holds at shutdown. Each fetch closes its own connections,
        so nothing stays open today; callers close it all the same, so that they need not
        change if a connection pool is kept one day."""

    async def _fetch(self, target: Target, into: str) -> Fetched:
        if not self._options.private:
            await addresses.check_host(target.host, target.port)
        source = await self._source(target)
        try:
            info = await source.info()
            check_size(target.url, info.size, self._options.max_size)
            key = self._cache.key(target.url)
            async with self._cache.locked(key):
                found = await asyncio.to_thread(self._cache.lookup, key, info.validator)
                if found:
                    path = await asyncio.to_thread(self._cache.hand_out, found, into)
                    if path:
                        self.hits += 1
                        _log.debug("remote data: %s from the cache", target.url)
                        return _fetched(found, path, from_cache=True)
                entry = await self._download(source, target, key, info)
                path = await asyncio.to_thread(self._cache.hand_out, entry, into)
                await asyncio.to_thread(self._cache.evict, key)
        finally:
            await source.close()
        if not path:
            raise RemoteUnavailable("the cache lost %s while it was fetched" % target.url)
        return _fetched(entry, path, from_cache=False)

    async def _source(self, target: Target) -> Source:
        credentials = credentials_for(self._options.auth, target.host, target.port)
        if target.webdav:
            # httpx loads its CA bundle when built: not on the loop.
            return await asyncio.to_thread(WebdavSource, target, credentials,
                                           self._options.timeout,
                                           self._options.private)
        return HttpSource(target, self._policy, credentials, self._options.private)

    async def _download(self, source: Source, target: Target, key: str,
                        info: RemoteInfo) -> Entry:
        temp = await asyncio.to_thread(self._cache.temp_file)
        started = time.monotonic()
        try:
            got = await source.download(temp, self._options.max_size)
            self.downloads += 1
            name = got.filename or name_from_path(target.path) or "download"
            entry = Entry(key=key, url=target.url, validator=info.validator or "",
                          filename=name, content_type=_content_type(name, got, info),
                          size=got.size or 0)
            entry = await asyncio.to_thread(self._cache.store, temp, entry)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()  # a failed or cut download: never a half file in the cache
        _log.info("remote data: fetched %s (%d bytes) in %.1f s", target.url, entry.size,
                  time.monotonic() - started)
        return entry


def _fetched(entry: Entry, path: str, from_cache: bool) -> Fetched:
    return Fetched(path=path, original_filename=entry.filename,
                   content_type=entry.content_type, size=entry.size, from_cache=from_cache)


def _content_type(name: str, *answers: RemoteInfo) -> str:
    # application/octet-stream is what storages say when they do not know: the name may tell.
    for answer in answers:
        said = (answer.content_type or "").partition(";")[0].strip().lower()
        if said and said != _UNKNOWN:
            return said
    return mimetypes.guess_type(name)[0] or _UNKNOWN

"""Sending what a training wrote to a WebDAV folder (``--output-storage``).

The URL comes from the server's configuration, not from a client, so the ``--remote-data``
patterns and the address checks do not apply to it; its credentials come from
``--storage-auth`` like every other.
"""

from __future__ import annotations

import asyncio
import os
import urllib.parse
from pathlib import Path, PurePosixPath
from typing import Any

from deepaas.exceptions import ConfigError, RemoteUnavailable
from deepaas.storage.policy import credentials_for, split_url
from deepaas.storage.webdav import webdav_error, webdav_filesystem

__all__ = ["OutputStorage"]

_OVER_HTTP = {"webdav": "http", "webdavs": "https", "http": "http", "https": "https"}


class OutputStorage:
    """A WebDAV folder (``webdav://``, ``webdavs://``, or an http(s) WebDAV endpoint such as
    Nextcloud's ``https://HOST/remote.php/dav/files/USER/FOLDER``) that outputs go to."""

    def __init__(self, url: str, auth: tuple[str, ...] = (), timeout: float = 300.0) -> None:
        """``auth``: the ``HOST=USER:PASSWORD`` entries (``--storage-auth``); ``timeout``:
        seconds for one upload (``--remote-timeout``)."""
        parts = urllib.parse.urlsplit(url)
        try:
            scheme, host, port, path = split_url(url)
        except ValueError as exc:
            raise ConfigError("--output-storage: %s" % exc) from None
        if parts.username is not None or parts.password is not None:
            raise ConfigError("--output-storage: put its credentials in --storage-auth, not "
                              "in the URL")
        netloc = parts.netloc
        self._base = "%s://%s" % (_OVER_HTTP[scheme], netloc)
        self._shown = "%s://%s" % (scheme, netloc)  # the form the URLs answered take
        self._root = urllib.parse.unquote(path).rstrip("/")
        self._credentials = credentials_for(auth, host, port)
        self._timeout = timeout

    @property
    def url(self) -> str:
        return self._shown + urllib.parse.quote(self._root)

    async def upload(self, folder: Path, prefix: str) -> list[dict[str, Any]]:
        """Upload every file under folder (recursively) to URL/prefix/RELPATH, creating
        folders; answer ``[{"name": RELPATH, "size": N, "url": "webdavs://host/.../RELPATH"}]``
        (URLs without credentials). Raises RemoteUnavailable on failure.

        Symbolic links are skipped: they may lead out of the folder, to data that is no
        output. A missing folder is an empty one.
        """
        return await asyncio.to_thread(self._upload, Path(folder), _clean(prefix))

    def _upload(self, folder: Path, prefix: str) -> list[dict[str, Any]]:
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not _linked(p, folder))
        if not files:
            return []
        remote = "/".join(part for part in (self._root, prefix) if part)
        uploaded = []
        fs = webdav_filesystem(self._base, self._credentials, self._timeout)
        try:
            for path in files:
                name = path.relative_to(folder).as_posix()
                where = "%s/%s" % (remote, name)
                fs.put_file(str(path), where)
                uploaded.append({"name": name, "size": path.stat().st_size,
                                 "url": self._shown + urllib.parse.quote(where)})
        except Exception as exc:
            error = webdav_error(exc, self.url)
            raise RemoteUnavailable("uploading outputs to %s failed: %s"
                                    % (self.url, error.message)) from None
        finally:
            fs.client.http.close()
        return uploaded


def _clean(prefix: str) -> str:
    parts = [part for part in PurePosixPath(prefix.replace("\\", "/")).parts
             if part not in ("/", ".", "")]
    if ".." in parts:
        raise ValueError("an output prefix may not hold '..': %r" % prefix)
    return "/".join(parts)


def _linked(path: Path, folder: Path) -> bool:
    # A link anywhere between the folder and the file.
    relative = path.relative_to(folder)
    return any(os.path.islink(folder.joinpath(*relative.parts[:n]))
               for n in range(1, len(relative.parts) + 1))

"""File arguments given as URLs: what the HTTP API and deepaas-cli do with them alike."""

from __future__ import annotations

from typing import Any

from deepaas.exceptions import RemoteDataError, RemoteRefused
from deepaas.model import args as margs
from deepaas.model.wrapper import UploadedFile
from deepaas.storage.remote import RemoteData, looks_like_url

__all__ = ["fetch_remote"]


async def fetch_remote(spec: margs.ArgSpec, data: dict[str, Any], remote: RemoteData | None,
                       tmp_dir: str | None, files: list[str],
                       urls: dict[str, str] | None = None) -> None:
    """File arguments given as URLs become files, as if uploaded: fetched (or found in the
    cache) by the server, when ``--remote-data`` allows their URL. ``urls`` gets each such
    argument's URL, by the module's name for it (a training record shows where its data
    came from)."""
    for name, field in spec.readable().items():
        wire = margs.wire_name(name, field)
        url = data.get(wire)
        if not margs.is_file_field(field) or not isinstance(url, str) or not looks_like_url(url):
            continue
        if remote is None or not remote.enabled:
            raise RemoteRefused("%s: this server does not fetch files from URLs (remote data "
                                "is off; see --remote-data)" % wire)
        try:
            # Beside the cache by default: the file handed out is then a hard link, not a
            # copy of what may be gigabytes of dataset.
            fetched = await remote.fetch(url, tmp_dir or str(remote.cache_dir / "handed-out"))
        except RemoteDataError as exc:
            exc.message = "%s: %s" % (wire, exc.message)  # which argument it was
            exc.args = (exc.message,)
            raise
        files.append(fetched.path)
        if urls is not None:
            urls[name] = url
        data[wire] = UploadedFile(name=wire, filename=fetched.path,
                                  content_type=fetched.content_type,
                                  original_filename=fetched.original_filename)

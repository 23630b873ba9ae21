"""File arguments given as URLs: what the HTTP API and deepaas-cli do with them alike."""

from __future__ import annotations

from typing import Any

from deepaas.exceptions import InvalidInput, RemoteDataError, RemoteRefused
from deepaas.model import args as margs
from deepaas.model.wrapper import UploadedFile
from deepaas.storage.remote import RemoteData, looks_like_url

__all__ = ["NOT_A_FILE", "fetch_remote"]

#: The 422 message for a file argument whose value is neither a file nor a URL to fetch.
NOT_A_FILE = "Not a file: upload one, or give a URL this server may fetch."


def _urls(spec: margs.ArgSpec, data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """``{key: (name, url)}`` of the file arguments given as URLs; any other value that is
    not a file (``file:///etc/passwd``, a path, a number) is a 422: a module that declares a
    file must get one, never a string naming something on the server."""
    urls, invalid = {}, {}
    for name, field in spec.readable().items():
        key = margs.client_name(name, field)
        value = data.get(key)
        if not margs.is_file_field(field) or value is None or isinstance(value, UploadedFile):
            continue
        if looks_like_url(value):
            urls[key] = (name, value)
        else:
            invalid[key] = [NOT_A_FILE]
    if invalid:
        raise InvalidInput(invalid)
    return urls


async def fetch_remote(spec: margs.ArgSpec, data: dict[str, Any], remote: RemoteData | None,
                       tmp_dir: str | None, files: list[str],
                       urls: dict[str, str] | None = None) -> None:
    """File arguments given as URLs become files, as if uploaded: fetched (or found in the
    cache) by the server, when ``--remote-data`` allows their URL. ``urls`` gets each such
    argument's URL, by the module's name for it (a training record shows where its data
    came from). A file argument that is neither a file nor such a URL is an InvalidInput."""
    for key, (name, url) in _urls(spec, data).items():
        if remote is None or not remote.enabled:
            raise RemoteRefused("%s: this server does not fetch files from URLs (remote data "
                                "is off; see --remote-data)" % key)
        try:
            fetched = await remote.fetch(url, tmp_dir or str(remote.hand_out_dir))
        except RemoteDataError as exc:
            exc.message = "%s: %s" % (key, exc.message)  # which argument it was
            exc.args = (exc.message,)
            raise
        files.append(fetched.path)
        if urls is not None:
            urls[name] = url
        data[key] = UploadedFile(name=key, filename=fetched.path,
                                  content_type=fetched.content_type,
                                  original_filename=fetched.original_filename)

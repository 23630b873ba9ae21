"""Remote data: file arguments given as URLs, and outputs sent to storage.

A client may send a URL where a module declares a file argument: ``https://...``,
``http://...``, ``webdav://HOST/PATH`` and ``webdavs://HOST/PATH`` (WebDAV over http and https),
or a Nextcloud public share link (``https://HOST/s/TOKEN``). :class:`RemoteData` checks it
against ``--remote-data`` (and keeps it away from internal addresses), fetches it (aiohttp for
HTTP, webdav4 for WebDAV) into a cache shared by the server's processes, and hands out a file
as if it had been uploaded. :class:`OutputStorage` uploads a training's outputs to
``--output-storage``.

Nothing here imports the HTTP server: the API, the job manager and the CLI use it alike.

Modules: ``policy`` (allowed URLs, credentials), ``addresses`` (internal addresses),
``fetch`` (HTTP through aiohttp), ``webdav`` (WebDAV through webdav4), ``cache``, ``remote``
(what callers use) and ``output``.
"""

from deepaas.storage.output import OutputStorage
from deepaas.storage.remote import Fetched, RemoteData, looks_like_url

__all__ = ["Fetched", "OutputStorage", "RemoteData", "looks_like_url"]

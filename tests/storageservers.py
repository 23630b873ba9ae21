"""Real storage servers on 127.0.0.1 for the remote-data tests: WebDAV and plain HTTP.

``webdav_server`` (one for the session): wsgidav served by cheroot in a thread of the test
process, a temporary folder as its root, basic authentication for ``alice``.

``http_files`` (one per test): an aiohttp server in a thread with its own event loop, serving a
temporary folder the way storages do (ETag, Last-Modified, Content-Length), plus the awkward
cases the fetcher must survive: a Nextcloud-like share link, files behind basic authentication,
a redirect, a server that lies about sizes, a slow one, and fixed error statuses. ``gets``
counts GET requests per path, so a test can prove that a cache hit downloaded nothing.

Both listen on 127.0.0.1 only and on a free port.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import dataclasses
import email.utils
import hashlib
import mimetypes
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

__all__ = ["HttpFiles", "WebdavServer", "http_files", "webdav_server"]

_HOST = "127.0.0.1"


@dataclasses.dataclass
class WebdavServer:
    """A running wsgidav: ``url`` is ``webdav://127.0.0.1:PORT``, its folder is ``root``."""

    root: Path
    port: int
    user: str
    password: str

    @property
    def url(self) -> str:
        return "webdav://%s:%d" % (_HOST, self.port)

    @property
    def auth_entry(self) -> str:
        """The ``--storage-auth`` entry that lets deepaas in."""
        return "%s:%d=%s:%s" % (_HOST, self.port, self.user, self.password)

    def write(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path


@pytest.fixture(scope="session")
def webdav_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebdavServer]:
    # Imported here: only the storage tests pay for wsgidav.
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    root = tmp_path_factory.mktemp("webdav")
    # A recognisable prefix, so tests can search messages for any piece of it.
    password = "pw-" + secrets.token_hex(8)
    app = WsgiDAVApp({
        "provider_mapping": {"/": str(root)},
        "simple_dc": {"user_mapping": {"*": {"alice": {"password": password}}}},
        # Basic only: what deepaas sends, and what Nextcloud accepts.
        "http_authenticator": {"accept_basic": True, "accept_digest": False,
                               "default_to_digest": False},
        "verbose": 0,
        "logging": {"enable": False},
        "dir_browser": {"enable": False},
        "lock_storage": True,
    })
    server = wsgi.Server((_HOST, 0), app, numthreads=8)
    server.prepare()  # binds, so the port is known before the first request
    thread = threading.Thread(target=server.serve, name="wsgidav", daemon=True)
    thread.start()
    try:
        yield WebdavServer(root=root, port=int(server.bind_addr[1]), user="alice",
                           password=password)
    finally:
        server.stop()
        thread.join(timeout=10)


@dataclasses.dataclass
class HttpFiles:
    """A running file server: files under ``root`` are at ``url + "/files/NAME"``."""

    root: Path
    port: int
    gets: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    #: ``/private/NAME`` answers only to basic authentication as alice with this password.
    password: str = dataclasses.field(default_factory=lambda: "pw-" + secrets.token_hex(8))

    @property
    def url(self) -> str:
        return "http://%s:%d" % (_HOST, self.port)

    def write(self, name: str, data: bytes) -> str:
        """Put a file on the server; answers its URL."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return "%s/files/%s" % (self.url, name)

    def share(self, token: str, data: bytes) -> None:
        """A Nextcloud-like public share: ``/s/TOKEN/download`` answers ``data.csv``."""
        self.write("shares/" + token, data)


def _file_response(path: Path, name: str | None = None) -> web.Response:
    """The file, as ``name`` in a Content-Disposition when one is given."""
    if not path.is_file():
        raise web.HTTPNotFound()
    data = path.read_bytes()
    headers = {
        # Like real storages: a new ETag when the content changes, not when it is touched.
        "ETag": '"%s"' % hashlib.sha256(data).hexdigest()[:16],
        "Last-Modified": email.utils.formatdate(path.stat().st_mtime, usegmt=True),
        "Content-Type": mimetypes.guess_type(name or path.name)[0] or "application/octet-stream",
    }
    if name:
        headers["Content-Disposition"] = 'attachment; filename="%s"' % name
    return web.Response(body=data, headers=headers)


def _routes(files: HttpFiles) -> web.Application:
    async def serve_file(request: web.Request) -> web.StreamResponse:
        return _file_response(files.root / request.match_info["name"])

    async def named(request: web.Request) -> web.StreamResponse:
        return _file_response(files.root / request.match_info["name"],
                              request.query.get("as", "report.csv"))

    async def share_download(request: web.Request) -> web.StreamResponse:
        return _file_response(files.root / "shares" / request.match_info["token"], "data.csv")

    async def private(request: web.Request) -> web.StreamResponse:
        token = base64.b64encode(("alice:" + files.password).encode()).decode()
        expected = "Basic " + token
        if request.headers.get("Authorization") != expected:
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Basic realm="files"'})
        return _file_response(files.root / request.match_info["name"])

    async def share_page(request: web.Request) -> web.StreamResponse:
        # What a browser gets: an HTML page, not the file.
        return web.Response(text="<html>a share page</html>", content_type="text/html")

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.query["to"])

    async def moved(request: web.Request) -> web.StreamResponse:
        # whatever the method (PROPFIND too): /moved/NAME -> /files/NAME
        raise web.HTTPMovedPermanently("/files/" + request.match_info["name"])

    async def liar(request: web.Request) -> web.StreamResponse:
        # HEAD announces 10 bytes, GET streams (chunked, no length) as many as ?bytes= says.
        if request.method == "HEAD":
            return web.Response(headers={"Content-Length": "10", "ETag": '"liar"'})
        response = web.StreamResponse(headers={"ETag": '"liar"'})
        response.enable_chunked_encoding()
        await response.prepare(request)
        left = int(request.query["bytes"])
        while left > 0:
            await response.write(b"x" * min(left, 65536))
            left -= 65536
        await response.write_eof()
        return response

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(float(request.query.get("seconds", "5")))
        return web.Response(body=b"late")

    async def status(request: web.Request) -> web.StreamResponse:
        return web.Response(status=int(request.match_info["code"]), text="nope")

    @web.middleware
    async def count(request: web.Request, handler: web.Handler) -> web.StreamResponse:
        if request.method == "GET":
            files.gets[request.path] += 1
        return await handler(request)

    app = web.Application(middlewares=[count])
    app.router.add_get("/files/{name:.+}", serve_file)
    app.router.add_get("/named/{name:.+}", named)
    app.router.add_get("/private/{name:.+}", private)
    for base in ("", "/index.php"):
        app.router.add_get(base + "/s/{token}/download", share_download)
        app.router.add_get(base + "/s/{token}", share_page)
    app.router.add_get("/redirect", redirect)
    app.router.add_route("*", "/moved/{name:.+}", moved)
    app.router.add_get("/liar", liar)
    app.router.add_get("/slow", slow)
    app.router.add_get("/status/{code}", status)
    return app


@pytest.fixture
def http_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpFiles]:
    files = HttpFiles(root=tmp_path_factory.mktemp("http"), port=0)
    # Its own loop in its own thread: it serves whatever loop (or thread) the client uses.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="http-files", daemon=True)
    thread.start()
    # The slow route must not hold the teardown: cancel handlers whose client went away.
    runner = web.AppRunner(_routes(files), handler_cancellation=True, shutdown_timeout=0.5,
                           access_log=None)

    async def start() -> int:
        await runner.setup()
        site = web.TCPSite(runner, _HOST, 0)
        await site.start()
        return int(runner.addresses[0][1])

    files.port = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    try:
        yield files
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

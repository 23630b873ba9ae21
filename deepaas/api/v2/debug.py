"""``GET /v2/debug/``: captured output when ``--debug-endpoint`` is on, else 204."""

from __future__ import annotations

from aiohttp import web

from deepaas.api.keys import DEBUG_CAPTURE

__all__ = ["get_debug"]


async def get_debug(request: web.Request) -> web.Response:
    capture = request.app.get(DEBUG_CAPTURE)
    if capture is None:
        return web.Response(status=204)
    return web.Response(text=capture.text(), content_type="text/plain")


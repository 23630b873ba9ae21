"""The dashboard: ``{base}/dashboard/``, a browser UI to try, train and watch the served models.

Plain JavaScript, one CSS file and an HTML page, all shipped with the package (no CDN, no
build step). The page learns where the API is from ``<meta name="deepaas-base">`` and uses
only the public API (metadata, ``openapi.json``, predict and train).
"""

from __future__ import annotations

import html
from pathlib import Path

from aiohttp import web

from deepaas.api.keys import SETTINGS

__all__ = ["setup_routes", "STATIC_DIR", "render_page"]

STATIC_DIR = Path(__file__).parent / "static" / "dashboard"
_PLACEHOLDER = "{{BASE}}"


def render_page(base: str) -> str:
    """The dashboard page for an API served under ``base`` ("" or like "/x")."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return page.replace(_PLACEHOLDER, html.escape(base, quote=True))


def setup_routes(app: web.Application) -> None:
    """Serve the dashboard at ``{base}/dashboard/`` and its assets under
    ``{base}/dashboard/static/``. ``{base}/dashboard`` reaches it through the slash redirect.

    Needs ``app[SETTINGS]``.
    """
    base = app[SETTINGS].base_path
    page = render_page(base)

    async def dashboard_page(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html",
                            headers={"Cache-Control": "no-cache"})

    app.router.add_get(base + "/dashboard/", dashboard_page)
    app.router.add_static(base + "/dashboard/static", STATIC_DIR)

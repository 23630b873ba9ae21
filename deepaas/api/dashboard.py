"""The dashboard: ``{base}/dashboard/``, a browser UI to try, train and watch the served models.

Plain JavaScript, one CSS file and an HTML page, all shipped with the package (no CDN, no
build step). The page learns where the API is from ``<meta name="deepaas-base">`` and uses
only the public API (metadata, ``openapi.json``, predict and train). Its routes are declared
in :mod:`deepaas.api.routes`.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

from aiohttp import web

from deepaas.api.keys import SETTINGS

__all__ = ["STATIC_DIR", "render_page", "dashboard_page"]

STATIC_DIR = Path(__file__).parent / "static" / "dashboard"
_PLACEHOLDER = "{{BASE}}"


def render_page(base: str) -> str:
    """The dashboard page for an API served under ``base`` ("" or like "/x")."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return page.replace(_PLACEHOLDER, html.escape(base, quote=True))



@functools.lru_cache(maxsize=16)
def _page(base: str) -> str:
    return render_page(base)


async def dashboard_page(request: web.Request) -> web.Response:
    """The page at ``{base}/dashboard/`` (``{base}/dashboard`` reaches it through the slash
    redirect); its assets are under ``{base}/dashboard/static/``."""
    return web.Response(text=_page(request.app[SETTINGS].base_path), content_type="text/html",
                        headers={"Cache-Control": "no-cache"})

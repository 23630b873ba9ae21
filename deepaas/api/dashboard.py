"""The dashboard: ``{base}/dashboard/``, a browser UI to try, train and watch the served models.

Plain JavaScript, one CSS file and an HTML page, all shipped with the package (no CDN, no
build step). The page learns where the API is from ``<meta name="deepaas-base">``, and its
paths from ``<meta name="deepaas-paths">``: the named routes of the route table
(:mod:`deepaas.api.routes`, which also declares the dashboard's own routes). It uses only the
public API (metadata, ``openapi.json``, predict and train).
"""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path

from aiohttp import web

from deepaas.api.keys import ROUTES, SETTINGS

__all__ = ["STATIC_DIR", "render_page", "dashboard_page"]

STATIC_DIR = Path(__file__).parent / "static" / "dashboard"
_PLACEHOLDER = "{{BASE}}"
_PATHS = "{{PATHS}}"


def render_page(base: str, paths: dict[str, str] | None = None) -> str:
    """The dashboard page for an API served under ``base`` ("" or like "/x"), whose API paths
    (``{name: template}``, from the route table) it reads from ``<meta name="deepaas-paths">``."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return page.replace(_PATHS, html.escape(json.dumps(paths or {}), quote=True)).replace(
        _PLACEHOLDER, html.escape(base, quote=True))


@functools.lru_cache(maxsize=16)
def _page(base: str, paths: str) -> str:
    return render_page(base, json.loads(paths))


async def dashboard_page(request: web.Request) -> web.Response:
    """The page at ``{base}/dashboard/`` (``{base}/dashboard`` reaches it through the slash
    redirect); its assets are under ``{base}/dashboard/static/``."""
    paths = {s.entry.name: s.entry.path for s in request.app[ROUTES].values() if s.entry.name}
    page = _page(request.app[SETTINGS].base_path, json.dumps(paths, sort_keys=True))
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-cache"})

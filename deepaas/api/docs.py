"""The Swagger UI: ``{base}/api`` (and ``{base}/ui``, which redirects there), and the two
documents it shows, ``{base}/swagger.json`` and ``{base}/openapi.json``.

The page and its assets are served from the ``swagger-ui-bundle`` package, never from a CDN,
so the documentation works on a machine with no internet access. The routes, served only
with ``--doc-endpoint`` on (the documents always), are declared in :mod:`deepaas.api.routes`.
"""

from __future__ import annotations

import functools
import html
import json
import string
from typing import Any

from aiohttp import web

from deepaas.api.keys import SETTINGS, SPEC_TEXTS

__all__ = ["STATIC_PREFIX", "render_page", "api_page", "ui_redirect", "get_swagger",
           "get_openapi"]

# Where the bundle's files are served, under the base path.
STATIC_PREFIX = "/static/swagger"

_PAGE = string.Template("""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>DEEPaaS API - Swagger UI</title>
    <link rel="stylesheet" type="text/css" href="$static/swagger-ui.css">
    <link rel="stylesheet" type="text/css" href="$static/index.css">
    <link rel="icon" type="image/png" href="$static/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="$static/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="$static/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="$static/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script>
      window.onload = function () {
        const config = $config;
        config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset];
        config.plugins = [SwaggerUIBundle.plugins.DownloadUrl];
        window.ui = SwaggerUIBundle(config);
      };
    </script>
  </body>
</html>
""")


def _ui_config(base: str) -> dict[str, Any]:
    # validatorUrl None: the UI would otherwise send the spec to validator.swagger.io.
    return {
        "urls": [
            {"url": base + "/swagger.json", "name": "Swagger 2.0 (swagger.json)"},
            {"url": base + "/openapi.json", "name": "OpenAPI 3 (openapi.json)"},
        ],
        "urls.primaryName": "Swagger 2.0 (swagger.json)",
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "layout": "StandaloneLayout",
        "validatorUrl": None,
    }


def render_page(base: str) -> str:
    """The Swagger UI page for an API served under ``base`` ("" or like "/x")."""
    # "</" cannot end the inline script early, whatever the base path holds.
    config = json.dumps(_ui_config(base)).replace("</", "<\\/")
    return _PAGE.substitute(static=html.escape(base + STATIC_PREFIX), config=config)



@functools.lru_cache(maxsize=16)
def _page(base: str) -> str:
    return render_page(base)


async def api_page(request: web.Request) -> web.Response:
    """The Swagger UI page; its assets are under ``{base}/static/swagger/``."""
    return web.Response(text=_page(request.app[SETTINGS].base_path), content_type="text/html")


async def ui_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.app[SETTINGS].base_path + "/api")


async def get_swagger(request: web.Request) -> web.Response:
    """The Swagger 2.0 document (built once, by :func:`deepaas.api.spec.setup_specs`)."""
    return web.json_response(text=request.app[SPEC_TEXTS]["swagger"])


async def get_openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 document (built once, by :func:`deepaas.api.spec.setup_specs`)."""
    return web.json_response(text=request.app[SPEC_TEXTS]["openapi"])

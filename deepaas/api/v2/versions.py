"""``GET /`` and ``GET /v2/``: the API versions."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from deepaas.api.keys import SETTINGS
from deepaas.api.render import json_response

__all__ = ["get_versions", "get_v2", "version_v2"]


def version_v2(base: str) -> dict[str, Any]:
    return {"version": "stable", "id": "v2",
            "links": [{"rel": "self", "type": "application/json", "href": base + "/v2/"}]}


async def get_versions(request: web.Request) -> web.Response:
    base = request.app[SETTINGS].base_path
    return json_response({
        "versions": [version_v2(base)],
        "links": [
            {"rel": "help", "type": "text/html", "href": base + "/api"},
            {"rel": "describedby", "type": "application/json", "href": base + "/swagger.json"},
        ],
    })


async def get_v2(request: web.Request) -> web.Response:
    return json_response(version_v2(request.app[SETTINGS].base_path))


"""``GET /v2/models/`` and ``GET /v2/models/NAME/``: metadata."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from deepaas.api.keys import PREDICTIONS, REGISTRY, SETTINGS
from deepaas.api.render import json_response
from deepaas.model.wrapper import ModelWrapper

__all__ = ["list_models", "get_model"]


async def _describe(request: web.Request, model: ModelWrapper) -> dict[str, Any]:
    base = request.app[SETTINGS].base_path
    link = {"rel": "self", "href": "%s/v2/models/%s" % (base, model.name)}
    entry: dict[str, Any] = {"id": model.name, "name": model.name, "links": [link]}
    entry.update(await request.app[PREDICTIONS].metadata(model))
    return entry


async def list_models(request: web.Request) -> web.Response:
    models = request.app[REGISTRY].models.values()
    return json_response({"models": [await _describe(request, m) for m in models]})


async def get_model(request: web.Request, model: ModelWrapper) -> web.Response:
    return json_response(await _describe(request, model))


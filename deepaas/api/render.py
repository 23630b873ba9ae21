"""JSON answers with the standard separators that DEEPaaS 2.x clients grep for."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from deepaas.model.outputs import dumps

__all__ = ["json_response"]


def json_response(data: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps, headers=headers)

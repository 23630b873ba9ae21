"""Request headers that decide what a job does: each may be sent once."""

from __future__ import annotations

from aiohttp import web

from deepaas.exceptions import InvalidInput

__all__ = ["single_header"]


def single_header(request: web.Request, name: str) -> str:
    """The value of header ``name`` ("" when it is not sent). Sent more than once, it is a
    422 naming it: which copy a proxy or a client library meant is not ours to guess, and
    "first wins" would run a job other than the one asked for."""
    values = request.headers.getall(name, [])
    if len(values) > 1:
        raise InvalidInput({name: ["sent %d times: send it once." % len(values)]})
    return values[0] if values else ""

"""API keys: ``Authorization: Bearer KEY`` on the routes that run model code.

Predict, train (and its logs) and debug are protected when keys are set; metadata, the
specification, the docs and the health probes stay public unless ``--protect-all``. Keys
are compared in constant time.
"""

from __future__ import annotations

import hmac
import re

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from deepaas.api.render import json_response

__all__ = ["auth_middleware", "is_protected"]

_PROTECTED = re.compile(r"^/v2/(debug/|models/[^/]+/(predict|train)/)")



def is_protected(path: str, protect_all: bool) -> bool:
    """Whether ``path`` (without the base path) needs a key.

    The dashboard's page and assets never do: they hold no data, and a visitor must reach
    the page to type the key that its API calls then send.
    """
    if path.startswith("/dashboard"):
        return False
    return protect_all or bool(_PROTECTED.match(path))


def _matches(given: str, keys: tuple[str, ...]) -> bool:
    found = False
    for key in keys:  # every key is compared, so timing tells nothing about which matched
        found |= hmac.compare_digest(given.encode(), key.encode())
    return found


def auth_middleware(keys: tuple[str, ...], base: str, protect_all: bool) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path[len(base):] if request.path.startswith(base) else request.path
        if request.method == "OPTIONS" or not is_protected(path, protect_all):
            return await handler(request)  # CORS preflights carry no credentials
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and given and _matches(given.strip(), keys):
            return await handler(request)
        return json_response({"message": "A valid API key is needed: send the header "
                              "'Authorization: Bearer KEY'"}, status=401,
                             headers={"WWW-Authenticate": 'Bearer realm="deepaas"'})
    return middleware

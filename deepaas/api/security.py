"""API keys: ``Authorization: Bearer KEY`` on the routes that run model code.

Which routes need a key is declared in the route table (:mod:`deepaas.api.routes`): predict,
train (and its logs) and debug when keys are set; metadata, the specification, the docs and
the health probes only with ``--protect-all``; the dashboard's page and assets never (they hold
no data, and a visitor must reach the page to type the key that its API calls then send). Keys
are compared in constant time (:class:`deepaas.api.credentials.ApiKeys`).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from deepaas.api.credentials import ApiKeys
from deepaas.api.render import json_response
from deepaas.api.routes import KEYED, OPEN_PREFIXES, needs_key, served

__all__ = ["auth_middleware", "is_protected"]


def is_protected(request: web.Request, base: str, protect_all: bool) -> bool:
    """Whether ``request`` needs a key: as its route is declared, or, where no route matched
    (a 404, a 405, a missing slash), as the table's paths that its path falls under."""
    match = served(request)
    if match is not None:
        return needs_key(match.entry.access, protect_all)
    path = request.path[len(base):] if request.path.startswith(base) else request.path
    if path.startswith(OPEN_PREFIXES):
        return False
    return protect_all or bool(KEYED.match(path))


def auth_middleware(keys: ApiKeys, base: str, protect_all: bool) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" or not is_protected(request, base, protect_all):
            return await handler(request)  # CORS preflights carry no credentials
        if keys.admits(request):
            return await handler(request)
        return json_response({"message": "A valid API key is needed: send the header "
                              "'Authorization: Bearer KEY'"}, status=401,
                             headers={"WWW-Authenticate": 'Bearer realm="deepaas"'})
    return middleware

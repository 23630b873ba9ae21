"""The one middleware every request goes through: request id, errors, slashes, metrics, and
the 503 for requests still running when a stopping server's time is up (``draining``).

``X-Request-ID`` is honoured when the client sends a sane one (else a new one is made) and
returned on the answer; the access log carries it. Domain errors become answers
(:func:`deepaas.api.errors.guarded`). A path the router does not know goes through aiohttp's
``normalize_path_middleware`` (a missing trailing slash or repeated slashes answer 308), and
only such a path: one middleware instead of three keeps a coroutine layer per request off the
hot path.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
import uuid
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from deepaas.api.draining import Draining
from deepaas.api.errors import guarded
from deepaas.api.metrics import Metrics

__all__ = ["REQUEST_ID", "REQUEST_ID_KEY", "STARTED_KEY", "edge_middleware"]

REQUEST_ID = "X-Request-ID"
# A typed request key where aiohttp has them (3.13+), else the plain string.
REQUEST_ID_KEY: Any = getattr(web, "RequestKey", lambda name, _type: name)("request_id", str)
# When the request reached the app, on time.perf_counter(): the access log's durations (the
# time aiohttp hands it comes from loop.time(), which uvloop keeps in whole milliseconds).
STARTED_KEY: Any = getattr(web, "RequestKey", lambda name, _type: name)("started", float)
_SANE = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,128}$")



def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def edge_middleware(metrics: Metrics | None, draining: Draining | None = None) -> Middleware:
    # Ids made here are a random prefix per server and a counter: unique, and cheaper than a
    # uuid4 (a system call) on every request.
    prefix, counter = uuid.uuid4().hex[:12], itertools.count(1)
    normalize = web.normalize_path_middleware()
    drain = draining or Draining(0)  # never started: no request is ever cut

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[STARTED_KEY] = time.perf_counter()
        given = request.headers.get(REQUEST_ID, "")
        rid = given if given and _SANE.match(given) else "%s-%x" % (prefix, next(counter))
        request[REQUEST_ID_KEY] = rid
        task = drain.enter(request)
        response: web.StreamResponse
        try:
            if drain.expired:
                response = drain.answer()
            elif request.match_info.http_exception is not None:
                response = await normalize(request, handler)
            else:
                response = await guarded(request, handler)
        except web.HTTPException as exc:  # redirects and router 404/405 answers
            exc.headers[REQUEST_ID] = rid
            if metrics is not None:
                metrics.request(_route(request), request.method, exc.status)
            raise
        except asyncio.CancelledError:
            if not drain.was_cut(task):  # the client went away: nobody to answer
                raise
            response = drain.answer()  # still running when the server's stop ran out of time
        finally:
            drain.leave(task)
        response.headers[REQUEST_ID] = rid
        if metrics is not None:
            metrics.request(_route(request), request.method, response.status)
        return response
    return middleware

"""The one place where errors become HTTP answers."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from deepaas.api.keys import SETTINGS
from deepaas.exceptions import (
    DeepaasError,
    EndpointDisabled,
    JobNotFound,
    ModelNotFound,
    ModuleHTTPError,
    NotProvided,
    PayloadTooLarge,
)
from deepaas.model.outputs import dumps

__all__ = ["guarded", "to_response"]

LOG = logging.getLogger(__name__)


# DEEPaaS 2.x answered these with aiohttp's plain-text pages ("404: Not Found"), and clients
# and test scripts compare them: keep those pages.
_PLAIN = (JobNotFound, ModelNotFound, EndpointDisabled)


def _reason(text: str) -> str:
    """A status-line reason: one line, printable."""
    return " ".join(text.split())[:200] or "Error"


def to_response(error: DeepaasError, debug: bool = False) -> web.Response:
    """The answer for a domain error: JSON with a message, or the DEEPaaS 2.x plain page.

    With ``debug`` (``deepaas-run --debug``) a module's traceback is added to the JSON.
    """
    if isinstance(error, _PLAIN):
        reason = web.Response(status=error.status).reason
        return web.Response(status=error.status, text="%d: %s" % (error.status, reason))
    if isinstance(error, NotProvided):  # 2.x: HTTPNotImplemented(reason=message)
        reason = _reason(error.message)
        return web.Response(status=error.status, reason=reason,
                            text="%d: %s" % (error.status, reason))
    status_reason = _reason(error.message) if isinstance(error, ModuleHTTPError) else None
    body = error.body()
    if debug and error.traceback and isinstance(body, dict):
        body = {**body, "traceback": error.traceback}
    return web.Response(status=error.status, reason=status_reason, text=dumps(body),
                        content_type="application/json", headers=error.headers or None)


async def guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Call ``handler``; domain errors and our own bugs become answers here, once."""
    try:
        return await handler(request)
    except DeepaasError as error:
        return to_response(error, debug=request.app[SETTINGS].debug)
    except web.HTTPRequestEntityTooLarge:  # aiohttp's own limit on bodies it reads
        return to_response(PayloadTooLarge(
            "Request body larger than the %d bytes this server accepts (--client-max-size)"
            % request.app[SETTINGS].client_max_size))
    except web.HTTPException:
        raise
    except Exception as exc:  # a bug of ours: answer JSON and keep serving
        LOG.exception("unexpected error answering %s %s", request.method, request.path)
        body = {"message": "Internal server error: %s: %s" % (type(exc).__name__, exc)}
        return web.Response(status=500, text=dumps(body), content_type="application/json")

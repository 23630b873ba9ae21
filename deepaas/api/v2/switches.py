"""``--train-endpoint false`` and ``--predict-endpoint false``: a route's handler behind them
answers 402, as DEEPaaS 2.x did."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from deepaas.api.keys import SETTINGS
from deepaas.config import Settings
from deepaas.exceptions import EndpointDisabled
from deepaas.model.wrapper import ModelWrapper

__all__ = ["Handler", "behind"]

Handler = Callable[..., Awaitable[web.StreamResponse]]


def behind(switch: Callable[[Settings], bool], what: str) -> Callable[[Handler], Handler]:
    """A decorator: the handler answers only while ``switch(settings)``; else 402 saying
    "``what`` are disabled on this server"."""
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: web.Request, model: ModelWrapper) -> web.StreamResponse:
            if not switch(request.app[SETTINGS]):
                raise EndpointDisabled("%s disabled on this server" % what)
            return await handler(request, model)
        return wrapped
    return decorate

"""``POST /v2/models/NAME/predict/``."""

from __future__ import annotations

import time

from aiohttp import web

from deepaas.api.inputs import read_inputs
from deepaas.api.keys import BODIES, METRICS, PREDICTIONS, REMOTE, SETTINGS
from deepaas.api.streaming import send_stream
from deepaas.api.v2 import predictions
from deepaas.api.webhook import webhook_url
from deepaas.exceptions import EndpointDisabled, NotProvided
from deepaas.model.wrapper import ModelWrapper

__all__ = ["predict"]


async def predict(request: web.Request, model: ModelWrapper) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    if not settings.predict_endpoint:
        raise EndpointDisabled("predictions are disabled on this server")
    if not model.provides("predict"):
        raise NotProvided("Not implemented by underlying model (loaded '%s')" % model.name)
    asynchronous = predictions.respond_async(request)
    # Only an asynchronous prediction has an end to announce (a synchronous one answers it):
    # its Webhook-URL is checked before the body is read, a refused one is a 422.
    hook = await webhook_url(request) if asynchronous else None
    spec = model.predict_args
    inputs = await read_inputs(request, spec, settings, request.app[REMOTE],
                               request.app[BODIES])
    accept = inputs.kwargs.get("accept") if spec.has_accept else None
    if asynchronous:  # Prefer: respond-async: 202, poll the record (or wait for the hook)
        return await predictions.submit(request, model, inputs, accept, hook)
    # The uploads are removed once the prediction is over (or dropped unrun), not when the
    # client leaves: a prediction already running may still be reading them.
    began = time.perf_counter()
    answer = await request.app[PREDICTIONS].predict(model, inputs.kwargs, accept,
                                                    release=inputs.cleanup)

    def measured() -> None:
        if settings.metrics:  # --nometrics takes this work off the hot path too
            request.app[METRICS].prediction(model.name, time.perf_counter() - began)

    if answer.stream is not None:  # items are sent as the module yields them
        return await send_stream(request, answer, ended=measured)
    measured()
    if answer.is_json:
        return web.Response(body=answer.body, content_type="application/json", charset="utf-8")
    return web.Response(body=answer.body, headers={"Content-Type": answer.content_type})


"""Asynchronous predictions: ``POST .../predict/`` with ``Prefer: respond-async`` (RFC 7240),
and ``/v2/models/NAME/predictions/``: list, get, cancel, and download a result."""

from __future__ import annotations

import asyncio

from aiohttp import web

from deepaas.api.inputs import Inputs
from deepaas.api.keys import ASYNC_PREDICTIONS, SETTINGS, WEBHOOKS
from deepaas.api.listing import list_filters
from deepaas.api.render import json_response
from deepaas.api.v2.switches import behind
from deepaas.jobs.prediction_records import PredictionRecord, result_path
from deepaas.model.wrapper import ModelWrapper

__all__ = ["respond_async", "submit", "list_predictions", "get_prediction",
           "cancel_prediction", "get_result", "PREFERENCE"]

PREFERENCE = "respond-async"


def _split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside quoted strings (which may hold it, escaped
    quotes included)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def respond_async(request: web.Request) -> bool:
    """Whether the client prefers an asynchronous answer: a ``Prefer`` header (one or
    several) holding the ``respond-async`` preference. Preferences are comma-separated, their
    names case-insensitive, each may carry a value (``=``) and parameters (after ``;``)."""
    for header in request.headers.getall("Prefer", []):
        for preference in _split(header, ","):
            name = _split(preference, ";")[0].partition("=")[0]
            if name.strip().lower() == PREFERENCE:
                return True
    return False


async def submit(request: web.Request, model: ModelWrapper, inputs: Inputs,
                 accept: str | None, hook: str | None = None) -> web.Response:
    """202 at once, with the running record and its ``Location``; the prediction goes on in
    the model's line and removes its uploads when it ends; its record goes to ``hook`` (a
    checked Webhook-URL) then."""
    runs = request.app[ASYNC_PREDICTIONS]
    # Shielded: a client leaving mid-submit cannot leave a half-registered prediction (or
    # one whose webhook is not armed).
    record = await asyncio.shield(_submit(request.app, model, inputs, accept, hook))
    location = result_path(request.app[SETTINGS].base_path, model.name, record.uuid)
    return json_response(runs.shown(record), status=202, headers={
        "Location": location, "Preference-Applied": PREFERENCE})


async def _submit(app: web.Application, model: ModelWrapper, inputs: Inputs,
                  accept: str | None, hook: str | None) -> PredictionRecord:
    record = await app[ASYNC_PREDICTIONS].submit(model, inputs.kwargs, accept,
                                                 release=inputs.cleanup, urls=inputs.urls)
    if hook:
        await app[WEBHOOKS].arm(record.uuid, hook)
    return record


# 402 with --predict-endpoint false, as the predict route answers
_enabled = behind(lambda settings: settings.predict_endpoint, "predictions are")


@_enabled
async def list_predictions(request: web.Request, model: ModelWrapper) -> web.Response:
    """The model's asynchronous predictions, oldest first: ``?status=``, ``?limit=``,
    ``?offset=`` as for trainings."""
    runs = request.app[ASYNC_PREDICTIONS]
    statuses, limit, offset = list_filters(request.query)
    found = await runs.find(model.name, statuses, limit, offset)
    return json_response([runs.shown(record) for record in found])


@_enabled
async def get_prediction(request: web.Request, model: ModelWrapper) -> web.Response:
    runs = request.app[ASYNC_PREDICTIONS]
    return json_response(runs.shown(await runs.get(model.name, request.match_info["uuid"])))


@_enabled
async def cancel_prediction(request: web.Request, model: ModelWrapper) -> web.Response:
    runs = request.app[ASYNC_PREDICTIONS]
    return json_response(runs.shown(await runs.cancel(model.name, request.match_info["uuid"])))


@_enabled
async def get_result(request: web.Request, model: ModelWrapper) -> web.Response:
    """A done prediction's answer, as the synchronous path would have sent it."""
    body, media = await request.app[ASYNC_PREDICTIONS].result(model.name,
                                                              request.match_info["uuid"])
    if media == "application/json":
        return web.Response(body=body, content_type=media, charset="utf-8")
    return web.Response(body=body, headers={"Content-Type": media})

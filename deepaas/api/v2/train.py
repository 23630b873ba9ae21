"""``/v2/models/NAME/train/``: start, list, get and cancel trainings."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from deepaas.api.inputs import read_inputs
from deepaas.api.keys import JOBS, REGISTRY, SETTINGS
from deepaas.api.render import json_response
from deepaas.exceptions import EndpointDisabled
from deepaas.jobs.records import Job, JobStatus
from deepaas.model.wrapper import ModelWrapper

__all__ = ["setup_routes", "record"]

_DATE = "%Y-%m-%d %H:%M:%S.%f"


def record(job: Job) -> dict[str, Any]:
    """The DEEPaaS 2.x training record: date, args, uuid, status (+ result or message)."""
    out: dict[str, Any] = {"date": job.date.strftime(_DATE), "args": job.args, "uuid": job.uuid,
                           "status": job.status.value}
    if job.status is JobStatus.DONE and job.finish_date is not None:
        out["result"] = {"output": job.output, "finish_date": job.finish_date.strftime(_DATE),
                         "duration": str(job.duration)}
    elif job.status is JobStatus.ERROR:
        out["message"] = job.message or ""
    elif job.finish_date is not None:
        out["finish_date"] = job.finish_date.strftime(_DATE)
    return out


# Handlers take the request and, bound per route, the model (``model=``).
Handler = Callable[..., Awaitable[web.Response]]


def _enabled(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapped(request: web.Request, model: ModelWrapper) -> web.Response:
        if not request.app[SETTINGS].train_endpoint:
            raise EndpointDisabled("training is disabled on this server")
        return await handler(request, model)
    return wrapped


@_enabled
async def start(request: web.Request, model: ModelWrapper) -> web.Response:
    inputs = await read_inputs(request, model.train_args, request.app[SETTINGS])
    try:
        job = await request.app[JOBS].submit(model, inputs.kwargs, inputs.files)
    except BaseException:
        inputs.cleanup()
        raise
    return json_response(record(job))


@_enabled
async def list_jobs(request: web.Request, model: ModelWrapper) -> web.Response:
    return json_response([record(job) for job in await request.app[JOBS].list(model.name)])


@_enabled
async def get_job(request: web.Request, model: ModelWrapper) -> web.Response:
    job = await request.app[JOBS].get(model.name, request.match_info["uuid"])
    return json_response(record(job))


@_enabled
async def cancel_job(request: web.Request, model: ModelWrapper) -> web.Response:
    job = await request.app[JOBS].cancel(model.name, request.match_info["uuid"])
    return json_response(record(job))


def setup_routes(app: web.Application, base: str) -> None:
    for model in app[REGISTRY].models.values():
        path = "%s/v2/models/%s/train/" % (base, model.name)
        bind = functools.partial
        app.router.add_post(path, bind(start, model=model))
        app.router.add_get(path, bind(list_jobs, model=model), allow_head=False)
        app.router.add_get(path + "{uuid}", bind(get_job, model=model), allow_head=False)
        app.router.add_delete(path + "{uuid}", bind(cancel_job, model=model))

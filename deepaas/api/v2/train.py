"""``/v2/models/NAME/train/``: start, list, get, cancel trainings and read their logs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from deepaas.api.headers import single_header
from deepaas.api.inputs import Inputs, read_inputs
from deepaas.api.keys import BODIES, JOBS, REMOTE, SETTINGS, STATE, WEBHOOKS
from deepaas.api.listing import list_filters
from deepaas.api.render import json_response
from deepaas.api.v2.switches import behind
from deepaas.api.webhook import webhook_url
from deepaas.jobs.manager import JobManager
from deepaas.jobs.records import Job
from deepaas.jobs.v2record import record
from deepaas.model.wrapper import ModelWrapper
from deepaas.resources.request import HEADER as RESOURCES
from deepaas.resources.request import Resources, parse_header

__all__ = ["start", "list_jobs", "get_job", "cancel_job", "get_logs", "get_output"]

def _record(job: Job, jobs: JobManager, with_metrics: bool = False) -> dict[str, Any]:
    return record(job, jobs.position(job.uuid), with_metrics)


_enabled = behind(lambda settings: settings.train_endpoint, "training is")


@_enabled
async def start(request: web.Request, model: ModelWrapper) -> web.Response:
    hook = await webhook_url(request)  # 422 for a refused one, before anything is read
    asked = parse_header(single_header(request, RESOURCES))  # 422 naming a malformed key
    inputs = await read_inputs(request, model.train_args, request.app[SETTINGS],
                               request.app[REMOTE], request.app[BODIES])
    # The job owns the uploads from here; shielded, so a client leaving mid-submit cannot
    # leave a half-registered job (or one whose webhook is not armed) behind.
    job = await asyncio.shield(_submit(request.app, model, inputs, hook, asked))
    return json_response(_record(job, request.app[JOBS]))


async def _submit(app: web.Application, model: ModelWrapper, inputs: Inputs,
                  hook: str | None, asked: Resources) -> Job:
    job = await app[JOBS].submit(model, inputs.kwargs, inputs.files, inputs.urls, asked)
    if hook:
        await app[WEBHOOKS].arm(job.uuid, hook)
    return job


@_enabled
async def list_jobs(request: web.Request, model: ModelWrapper) -> web.Response:
    jobs = request.app[JOBS]
    statuses, limit, offset = list_filters(request.query)
    found = await jobs.find(model.name, statuses, limit, offset)
    return json_response([_record(job, jobs) for job in found])


@_enabled
async def get_job(request: web.Request, model: ModelWrapper) -> web.Response:
    jobs = request.app[JOBS]
    job = await jobs.get(model.name, request.match_info["uuid"])
    return json_response(_record(job, jobs, with_metrics=True))


@_enabled
async def cancel_job(request: web.Request, model: ModelWrapper) -> web.Response:
    jobs = request.app[JOBS]
    job = await jobs.cancel(model.name, request.match_info["uuid"])
    return json_response(_record(job, jobs, with_metrics=True))


@_enabled
async def get_logs(request: web.Request, model: ModelWrapper) -> web.StreamResponse:
    """The training's stdout and stderr as text; ``?follow=true`` streams until it ends.

    The job manager says where from (:meth:`~deepaas.jobs.manager.JobManager.log`).
    """
    state = request.app[STATE]
    following = request.query.get("follow", "").lower() in ("1", "true", "yes")
    chunks = await request.app[JOBS].log(model.name, request.match_info["uuid"], following,
                                         until=lambda: state.stopping)
    if isinstance(chunks, Path):
        return web.FileResponse(chunks, headers={"Content-Type": "text/plain; charset=utf-8"})
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8",
                                           "Cache-Control": "no-cache"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:  # the client stopped following: nothing to answer
        pass
    return response


@_enabled
async def get_output(request: web.Request, model: ModelWrapper) -> web.StreamResponse:
    """A file the training wrote to its output dir (``--output-storage`` unset)."""
    path = await request.app[JOBS].output_file(model.name, request.match_info["uuid"],
                                               request.match_info["path"])
    return web.FileResponse(path, headers={"Content-Disposition": 'attachment; filename="%s"'
                                           % path.name.replace('"', "")})


"""The app factory: ``create_app(settings, registry)`` builds the whole aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp_cors
from aiohttp import web
from aiohttp.typedefs import Middleware

from deepaas import ENV_DATA_DIR
from deepaas.api import routes, spec
from deepaas.api.bodies import BodyBudget
from deepaas.api.credentials import ApiKeys
from deepaas.api.draining import Draining
from deepaas.api.keys import (
    API_KEYS,
    ASYNC_PREDICTIONS,
    BODIES,
    DATA_DIR_LOCK,
    DEBUG_CAPTURE,
    JOB_STORE,
    JOBS,
    METRICS,
    PREDICTIONS,
    REGISTRY,
    REMOTE,
    SETTINGS,
    STATE,
    WARMUP,
    WEBHOOKS,
    ServerState,
)
from deepaas.api.metrics import Metrics
from deepaas.api.observe import edge_middleware
from deepaas.api.security import auth_middleware
from deepaas.cluster.connection import RayConnection
from deepaas.config import Settings, api_keys
from deepaas.datadir import DataDirLock, http_address
from deepaas.debug import DebugCapture
from deepaas.files import sweep_orphans
from deepaas.jobs.active import Limits
from deepaas.jobs.async_predictions import AsyncPredictions
from deepaas.jobs.executor import Executor, LocalExecutor
from deepaas.jobs.indexed import IndexedStore
from deepaas.jobs.manager import JobManager
from deepaas.jobs.outputs import Uploader
from deepaas.jobs.prediction_records import PredictionStore, shown
from deepaas.jobs.records import Job
from deepaas.jobs.sqlite import SQLiteStore
from deepaas.jobs.store import JobStore
from deepaas.jobs.v2record import record
from deepaas.model.loading import Registry
from deepaas.resources.request import parse_header
from deepaas.storage.remote import RemoteData, RemoteOptions
from deepaas.webhooks import Lookup, WebhookOptions, Webhooks
from deepaas.workers.processes import ProcessRunner
from deepaas.workers.service import Predictions, PredictOptions, RunnerFactory
from deepaas.workers.threads import ThreadRunner

__all__ = ["create_app", "job_index", "job_store", "remote_options", "webhook_options"]


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Claim the data folder, recover the job books and warm every model before the server
    accepts requests; stop everything at the end, and let go of the folder last.

    What started is stopped however the start ends: a start-up step that fails (a damaged
    file, a bug) would otherwise leave a thread running (aiosqlite's) that keeps the process
    alive after the failure, neither serving nor exiting."""
    with app[DATA_DIR_LOCK]:  # first: a folder another server holds is refused before any change
        # Modules find the data dir here (deepaas.data_dir()), in the server and its trainings.
        os.environ[ENV_DATA_DIR] = str(app[DATA_DIR_LOCK].folder)
        async with contextlib.AsyncExitStack() as started:  # stopped last first
            started.push_async_callback(app[REMOTE].close)
            started.push_async_callback(app[PREDICTIONS].close)
            await app[JOBS].start()  # a store out of reach is one line, said before anything
            started.push_async_callback(app[JOBS].close)  # (a failed start closes itself)
            # Ended as error, written before the store closes; in the job store, open now.
            started.push_async_callback(app[ASYNC_PREDICTIONS].close)
            await app[ASYNC_PREDICTIONS].start()
            # Sending stops first; the trainings stopped next are still written to the
            # outbox, and delivered by the next start.
            started.push_async_callback(app[WEBHOOKS].close)
            await app[WEBHOOKS].start()  # after the job managers: it looks up armed jobs
            # What processes killed before they could clean up (kill -9) left in our temp
            # folders.
            await asyncio.to_thread(sweep_orphans, [
                Path(app[SETTINGS].tmp_dir or tempfile.gettempdir()), *app[REMOTE].temp_dirs])
            # Warm in the background: the server listens at once, so that probes (ready: 503
            # until warm) and metadata answer, while predictions wait for their model.
            app[WARMUP] = asyncio.create_task(app[PREDICTIONS].start(), name="warm-up")
            started.push_async_callback(_stop_warming, app)
            yield


async def _stop_warming(app: web.Application) -> None:
    app[STATE].stopping = True
    if not app[WARMUP].done():
        app[WARMUP].cancel()
    await asyncio.gather(app[WARMUP], return_exceptions=True)


def job_index(settings: Settings) -> JobStore:
    """The store that indexes the job folders: PostgreSQL where ``--job-store`` names one,
    else SQLite in the data dir."""
    if settings.job_store:
        from deepaas.jobs.postgres import PostgresStore  # only then: asyncpg is an extra

        return PostgresStore(settings.job_store)
    return SQLiteStore(Path(settings.data_dir) / "jobs.sqlite3")


def _prediction_records(store: IndexedStore) -> PredictionStore:
    """Where asynchronous predictions' records are kept: the job store's database."""
    index = store.index
    if isinstance(index, SQLiteStore):
        from deepaas.jobs.sqlite_predictions import SQLitePredictions

        records: PredictionStore = SQLitePredictions(index)
    else:
        from deepaas.jobs.postgres import PostgresStore
        from deepaas.jobs.postgres_predictions import PostgresPredictions

        assert isinstance(index, PostgresStore)
        records = PostgresPredictions(index)
    return records


def _async_predictions(settings: Settings, records: PredictionStore, store: IndexedStore,
                       jobs: JobManager, predictions: Predictions,
                       webhooks: Webhooks) -> AsyncPredictions:
    """Asynchronous predictions, each run in its model's usual prediction line."""
    # A client's DELETE stops the work where it can (a worker process is killed).
    run = functools.partial(predictions.predict, stop=True)
    return AsyncPredictions(records, run, settings.keep_predictions,
                            jobs.replica_id, webhooks.ended, shared=store.shared,
                            stale_after=settings.replica_timeout, base_path=settings.base_path)


def job_store(settings: Settings) -> IndexedStore:
    """Training records: each in its job folder, indexed in the job store."""
    return IndexedStore(job_index(settings), Path(settings.data_dir) / "jobs")


def _executor(settings: Settings, ray: RayConnection | None) -> Executor:
    if settings.executor == "ray" and ray is not None:
        from deepaas.cluster.training import RayExecutor  # only then: Ray is an extra

        return RayExecutor(ray, cpus=settings.ray_cpus, gpus=settings.ray_gpus,
                           memory=settings.ray_memory, cgroups=settings.training_cgroups)
    return LocalExecutor(cgroups=settings.training_cgroups, site=settings.site)


def _runners(settings: Settings, ray: RayConnection | None) -> RunnerFactory:
    """Where each model's predictions run: Ray actors, worker processes, or threads."""
    if settings.predict_executor == "ray" and ray is not None:
        from deepaas.cluster.predicting import RayRunner  # only then: Ray is an extra

        return functools.partial(RayRunner, workers=settings.workers, connection=ray,
                                 warm=settings.warm, cpus=settings.ray_cpus,
                                 gpus=settings.ray_gpus, memory=settings.ray_memory)
    runner = ProcessRunner if settings.isolate else ThreadRunner
    return functools.partial(runner, workers=settings.workers, warm=settings.warm)


def _predict_options(settings: Settings) -> PredictOptions:
    return PredictOptions(max_queue=settings.max_queue, timeout=settings.predict_timeout,
                          batch_size=settings.max_batch_size,
                          batch_delay_ms=settings.max_batch_delay_ms)


def _job_manager(settings: Settings, ray: RayConnection | None, store: JobStore,
                 webhooks: Webhooks) -> JobManager:
    async def ended(job: Job) -> None:
        await webhooks.ended(job.uuid, record(job))

    return JobManager(
        store, Path(settings.data_dir), warm=settings.warm,
        cancel_grace=settings.cancel_grace, tmp_dir=settings.tmp_dir or None,
        limits=Limits(total=settings.max_trainings, per_model=settings.trainings_per_model,
                      waiting=settings.max_waiting_trainings),
        executor=_executor(settings, ray), replica_timeout=settings.replica_timeout,
        outputs=_outputs(settings), on_end=ended,
        default_resources=parse_header(settings.train_resources))


def _outputs(settings: Settings) -> Uploader | None:
    if not settings.output_storage:
        return None
    from deepaas.storage.output import OutputStorage

    return OutputStorage(settings.output_storage, settings.storage_auth, settings.remote_timeout)


def remote_options(settings: Settings) -> RemoteOptions:
    """What fetching clients' URLs needs of the settings (the server's and deepaas-cli's)."""
    cache = Path(settings.cache_dir) if settings.cache_dir else Path(settings.data_dir, "cache")
    return RemoteOptions(patterns=settings.remote_data, cache_dir=cache,
                         private=settings.remote_private, max_size=settings.remote_max_size,
                         timeout=settings.remote_timeout, cache_max_size=settings.cache_max_size,
                         auth=settings.storage_auth)


def webhook_options(settings: Settings) -> WebhookOptions:
    """What webhooks need of the settings (``--webhook-allow`` and friends)."""
    return WebhookOptions(patterns=settings.webhook_allow, private=settings.webhook_private,
                          secret=settings.webhook_secret)


def _finished_job(store: JobStore, records: PredictionStore, base_path: str) -> Lookup:
    """The record of a training or asynchronous prediction that has ended, as a webhook
    delivers it (as the API shows it); None otherwise."""
    async def lookup(uuid: str) -> dict[str, Any] | None:
        job = await store.get(uuid)
        if job is not None:
            return record(job) if job.status.is_terminal() else None
        found = await records.get(uuid)
        if found is None or not found.status.is_terminal():
            return None
        return shown(found, base_path)

    return lookup


def _allow_cors(app: web.Application, origins: tuple[str, ...]) -> None:
    """Let browsers on ``origins`` call every route (aiohttp-cors answers the preflights)."""
    options = aiohttp_cors.ResourceOptions(allow_credentials=False, expose_headers="*",
                                           allow_headers="*", allow_methods="*")
    cors = aiohttp_cors.setup(app, defaults={origin: options for origin in origins})
    for route in list(app.router.routes()):
        cors.add(route)


def create_app(settings: Settings, registry: Registry,
               debug_capture: DebugCapture | None = None,
               data_dir_lock: DataDirLock | None = None) -> web.Application:
    """Build the application that serves ``registry`` as ``settings`` say. It claims its
    data folder when it starts (``data_dir_lock``: a claim made already, as deepaas-run
    makes it before loading the models) and lets go of it when it stops."""
    metrics = Metrics()
    draining = Draining(settings.shutdown_timeout)
    middlewares: list[Middleware] = [edge_middleware(metrics if settings.metrics else None,
                                                     draining)]
    keys = ApiKeys(api_keys(settings))
    if keys:
        middlewares.append(auth_middleware(keys, settings.base_path, settings.protect_all))
    app = web.Application(
        middlewares=middlewares,
        # 0 means "no limit" (as in DEEPaaS 2.x); aiohttp reads 0 as "nothing at all".
        client_max_size=settings.client_max_size or sys.maxsize,
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[STATE] = ServerState()
    app[REGISTRY] = registry
    app[API_KEYS] = keys
    app[DATA_DIR_LOCK] = data_dir_lock or DataDirLock(
        settings.data_dir, http_address(settings.listen_ip, settings.listen_port))
    # One connection to Ray, shared by trainings and predictions, made only if one asks.
    ray = RayConnection(settings.ray_address) if "ray" in (
        settings.executor, settings.predict_executor) else None
    app[PREDICTIONS] = Predictions(list(registry.models.values()), _runners(settings, ray),
                                   _predict_options(settings))
    app[JOB_STORE] = job_store(settings)
    records = _prediction_records(app[JOB_STORE])
    app[WEBHOOKS] = Webhooks(webhook_options(settings), Path(settings.data_dir, "webhooks"),
                             _finished_job(app[JOB_STORE], records, settings.base_path))
    app[JOBS] = _job_manager(settings, ray, app[JOB_STORE], app[WEBHOOKS])
    app[ASYNC_PREDICTIONS] = _async_predictions(settings, records, app[JOB_STORE], app[JOBS],
                                                app[PREDICTIONS], app[WEBHOOKS])
    app[REMOTE] = RemoteData(remote_options(settings))
    app[BODIES] = BodyBudget(settings.max_buffered)
    if debug_capture is not None:
        app[DEBUG_CAPTURE] = debug_capture
    routes.setup_routes(app)  # every route, from the one table (deepaas.api.routes)
    spec.setup_specs(app)
    if settings.cors_origin:
        _allow_cors(app, settings.cors_origin)
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(draining.begin)
    app.on_cleanup.append(draining.end)
    return app

"""Typed keys for what the app factory builds and the handlers read."""

from __future__ import annotations

import asyncio
import dataclasses

from aiohttp import web

from deepaas.api.bodies import BodyBudget
from deepaas.api.credentials import ApiKeys
from deepaas.api.metrics import Metrics
from deepaas.config import Settings
from deepaas.datadir import DataDirLock
from deepaas.debug import DebugCapture
from deepaas.jobs.async_predictions import AsyncPredictions
from deepaas.jobs.indexed import IndexedStore
from deepaas.jobs.manager import JobManager
from deepaas.model.loading import Registry
from deepaas.storage.remote import RemoteData
from deepaas.webhooks import Webhooks
from deepaas.workers.service import Predictions

__all__ = ["API_KEYS", "SETTINGS", "REGISTRY", "PREDICTIONS", "JOBS", "DEBUG_CAPTURE", "SPECS",
           "WARMUP", "STATE", "ServerState", "METRICS", "REMOTE", "BODIES",
           "JOB_STORE", "ROUTES", "SPEC_TEXTS", "ASYNC_PREDICTIONS", "WEBHOOKS", "DATA_DIR_LOCK"]

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", Registry)
PREDICTIONS = web.AppKey("predictions", Predictions)
JOBS = web.AppKey("jobs", JobManager)
JOB_STORE = web.AppKey("job_store", IndexedStore)  # the manager's; health reads its problem
DEBUG_CAPTURE = web.AppKey("debug_capture", DebugCapture)
SPECS = web.AppKey("specs", dict)
# Each spec document serialised once, as served: {"swagger": text, "openapi": text}.
SPEC_TEXTS = web.AppKey("spec_texts", dict)
# What each router entry serves: {aiohttp route: deepaas.api.routes.Served}.
ROUTES = web.AppKey("routes", dict)
WARMUP = web.AppKey("warmup", asyncio.Task)
REMOTE = web.AppKey("remote", RemoteData)
BODIES = web.AppKey("bodies", BodyBudget)
ASYNC_PREDICTIONS = web.AppKey("async_predictions", AsyncPredictions)  # Prefer: respond-async
WEBHOOKS = web.AppKey("webhooks", Webhooks)
API_KEYS = web.AppKey("api_keys", ApiKeys)  # the keys it accepts (none: an open server)
DATA_DIR_LOCK = web.AppKey("data_dir_lock", DataDirLock)  # this server's claim on its data folder


@dataclasses.dataclass
class ServerState:
    """What the health probes report beyond the models: whether the server is stopping."""

    stopping: bool = False


STATE = web.AppKey("state", ServerState)
METRICS = web.AppKey("metrics", Metrics)

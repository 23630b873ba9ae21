"""Typed keys for what the app factory builds and the handlers read."""

from __future__ import annotations

from aiohttp import web

from deepaas.config import Settings
from deepaas.debug import DebugCapture
from deepaas.jobs.manager import JobManager
from deepaas.model.loading import Registry
from deepaas.workers.service import Predictions

__all__ = ["SETTINGS", "REGISTRY", "PREDICTIONS", "JOBS", "DEBUG_CAPTURE", "SPECS"]

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", Registry)
PREDICTIONS = web.AppKey("predictions", Predictions)
JOBS = web.AppKey("jobs", JobManager)
DEBUG_CAPTURE = web.AppKey("debug_capture", DebugCapture)
SPECS = web.AppKey("specs", dict)

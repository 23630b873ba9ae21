"""Shared fixtures: build the real app around tiny fake modules and talk HTTP to it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from deepaas.api.app import create_app
from deepaas.config import Settings
from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper

# A real PostgreSQL server and a local Ray instance, for the tests of the shared job store and
# the cluster executors; WebDAV and HTTP file servers for remote data (each started only when a
# test asks for it).
pytest_plugins = ["tests.postgres", "tests.raycluster", "tests.storageservers"]

SOURCES = {
    "basic": "tests.models.basic",
    "klass": "tests.models.klass:Model",
    "bare": "tests.models.bare",
    "notimpl": "tests.models.notimpl",
    "asyncmod": "tests.models.asyncmod",
    "trainer": "tests.models.trainer",
    "detached": "tests.models.detached",
    "dictschema": "tests.models.dictschema",
    "crashy": "tests.models.crashy",
    "batcher": "tests.models.batcher",
    "slowwarm": "tests.models.slowwarm",
    "remote": "tests.models.remote",
    "heavy": "tests.models.heavy",
    "locations": "tests.models.locations",
    "demo": "deepaas_demo.api",
    "streamer": "tests.models.streamer",
    "astreamer": "tests.models.astreamer",
    "agenmod": "tests.models.agenmod",
    "secretive": "tests.models.secretive",
}


def wrapper(name: str) -> ModelWrapper:
    return ModelWrapper(name, resolve(SOURCES[name]), SOURCES[name])


@pytest.fixture
def serve(aiohttp_client: Any, tmp_path: Any, tmp_path_factory: Any) -> Any:
    """``await serve(registry, workers=2)`` -> a test client of the real app.

    ``access_log=AccessLog([stream])`` writes the access log as deepaas-run does (else
    aiohttp's own logger writes it).

    Uploads go to ``tmp_path`` and the data dir to a folder of its own, so tests can check
    that nothing is left behind and never write into the working tree.
    """

    async def make(registry: Registry, **overrides: Any) -> Any:
        capture = overrides.pop("debug_capture", None)
        access = overrides.pop("access_log", None)  # deepaas-run's own, in place of aiohttp's
        overrides.setdefault("tmp_dir", str(tmp_path))
        overrides.setdefault("data_dir", str(tmp_path_factory.mktemp("data")))
        overrides.setdefault("cancel_grace", 1.0)
        settings = dataclasses.replace(Settings(), **overrides)
        # As deepaas-run serves: a handler is cancelled when its client leaves.
        app = create_app(settings, registry, debug_capture=capture)
        if access is None:
            return await aiohttp_client(app, server_kwargs={"handler_cancellation": True})
        access.hide(registry.secret_parameters())  # as deepaas-run does
        # TestServer drops options given to it: they reach the runner through its start
        server = TestServer(app)
        await server.start_server(access_log_class=access.logger_class())
        return await aiohttp_client(server)

    return make


@pytest.fixture
def make_client(serve: Any) -> Any:
    """``await make_client("basic", "klass", predict_endpoint=False)`` -> a test client."""

    async def make(*names: str, **overrides: Any) -> Any:
        return await serve(Registry.of(*(wrapper(n) for n in names or ("basic",))), **overrides)

    return make

"""Shared fixtures: build the real app around tiny fake modules and talk HTTP to it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from deepaas.api.app import create_app
from deepaas.config import Settings
from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper

SOURCES = {
    "basic": "tests.models.basic",
    "klass": "tests.models.klass:Model",
    "bare": "tests.models.bare",
    "notimpl": "tests.models.notimpl",
    "asyncmod": "tests.models.asyncmod",
    "trainer": "tests.models.trainer",
    "dictschema": "tests.models.dictschema",
}


def wrapper(name: str) -> ModelWrapper:
    return ModelWrapper(name, resolve(SOURCES[name]), SOURCES[name])


@pytest.fixture
def make_client(aiohttp_client: Any, tmp_path: Any) -> Any:
    """``await make_client("basic", "klass", predict_endpoint=False)`` -> a test client."""

    async def make(*names: str, **overrides: Any) -> Any:
        capture = overrides.pop("debug_capture", None)
        overrides.setdefault("tmp_dir", str(tmp_path))
        overrides.setdefault("cancel_grace", 1.0)
        settings = dataclasses.replace(Settings(), **overrides)
        registry = Registry.of(*(wrapper(n) for n in names or ("basic",)))
        return await aiohttp_client(create_app(settings, registry, debug_capture=capture))

    return make

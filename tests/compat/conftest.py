"""Serving one corpus fixture (a module mirroring a public one) by its entry point's name."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import pytest

from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper


@pytest.fixture
def client_of(serve: Any) -> Any:
    """``await client_of("demo_app")`` -> a test client serving that installed model."""
    sources = {ep.name: ep.value for ep in metadata.entry_points(group="deepaas.v2.model")}

    async def make(name: str) -> Any:
        return await serve(Registry.of(ModelWrapper(name, resolve(sources[name]), sources[name])))

    return make

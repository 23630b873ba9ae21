"""Tests of deepaas.storage against real servers on 127.0.0.1 (see tests/storageservers.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from deepaas.api.app import remote_options
from deepaas.config import Settings
from deepaas.storage.remote import RemoteOptions

__all__ = ["settings_for"]


def settings_for(tmp_path: Path, *patterns: str, **overrides: Any) -> RemoteOptions:
    """The options of a server allowing ``patterns`` (built from its settings as the server
    builds them); the test servers listen on 127.0.0.1, so private addresses are allowed
    unless a test says otherwise."""
    overrides.setdefault("data_dir", str(tmp_path / "data"))
    overrides.setdefault("remote_private", True)
    overrides.setdefault("remote_timeout", 10.0)
    return remote_options(dataclasses.replace(Settings(), remote_data=tuple(patterns),
                                              **overrides))

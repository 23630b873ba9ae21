"""What a training leaves in its output dir: listed in its record, served by the API, or
uploaded to the output storage (``--output-storage``) when it ends."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path
from typing import Any, Protocol

from deepaas.exceptions import DeepaasError, OutputNotFound

__all__ = ["Uploader", "list_files", "settle", "find_file"]

LOG = logging.getLogger(__name__)


class Uploader(Protocol):
    """Where outputs go (``deepaas.storage.output.OutputStorage``)."""

    async def upload(self, folder: Path, prefix: str) -> list[dict[str, Any]]: ...


def list_files(folder: Path) -> list[dict[str, Any]]:
    """``[{"name": "relative/path", "size": bytes}]`` of every file under ``folder``, sorted."""
    if not folder.is_dir():
        return []
    return [{"name": path.relative_to(folder).as_posix(), "size": path.stat().st_size}
            for path in sorted(folder.rglob("*")) if path.is_file()]


async def settle(folder: Path, uuid: str, storage: Uploader | None,
                 log_path: Path) -> list[dict[str, Any]] | None:
    """The record's ``files`` once the training ended: uploaded (then removed here) when an
    output storage is set, else listed where they are. A failed upload keeps them here and
    says why at the end of the training's log."""
    files = await asyncio.to_thread(list_files, folder)
    if not files:
        return None
    if storage is None:
        return files
    try:
        stored = await storage.upload(folder, uuid)
    except DeepaasError as exc:
        LOG.error("training %s: the upload of its outputs failed: %s", uuid, exc)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write("\n[deepaas] the outputs stay on the server: upload failed: %s\n" % exc)
        return files
    await asyncio.to_thread(shutil.rmtree, folder, True)
    return stored


def find_file(folder: Path, name: str) -> Path:
    """The output file ``name`` (a relative path), never anything outside ``folder``."""
    root = folder.resolve()
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file():
        raise OutputNotFound("no output file %r here" % name)
    return path

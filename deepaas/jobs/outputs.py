"""What a training leaves in its output dir: listed in its record, served by the API, or
uploaded to the output storage (``--output-storage``) when it ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import stat
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from deepaas.exceptions import DeepaasError, OutputNotFound

__all__ = ["Uploader", "list_files", "settle", "find_file"]

LOG = logging.getLogger(__name__)


class Uploader(Protocol):
    """Where outputs go (``deepaas.storage.output.OutputStorage``)."""

    async def upload(self, folder: Path, prefix: str) -> list[dict[str, Any]]: ...


def list_files(folder: Path) -> list[dict[str, Any]]:
    """``[{"name": "relative/path", "size": bytes}]`` of every file under ``folder``, sorted.

    Symbolic links are not listed, nor are the folders they lead to entered (the upload to
    the output storage skips them too): a training could make one to any file the server
    may read, and its size, then its bytes, would be answered.
    """
    if not folder.is_dir():
        return []
    found = []
    for top, _, names in os.walk(folder):  # followlinks=False: a linked folder is not entered
        for name in names:
            path = Path(top, name)
            with contextlib.suppress(OSError):  # gone meanwhile, or unreadable
                info = path.lstat()
                if stat.S_ISREG(info.st_mode):  # neither a link nor a socket or a fifo
                    found.append((PurePosixPath(path.relative_to(folder).as_posix()),
                                  info.st_size))
    return [{"name": str(name), "size": size} for name, size in sorted(found)]


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
    """The output file ``name`` (a relative path), never anything outside ``folder``.

    A name that cannot be a file (a NUL byte, too long for the filesystem) is not found like
    any other; the answer names the file as asked, never where the folder is.
    """
    try:
        root = folder.resolve()
        path = (root / name).resolve()  # links followed: where they lead must be inside
        found = root in path.parents and path.is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        shown = name if len(name) <= 200 else name[:200] + "..."
        raise OutputNotFound("no output file %r here" % shown)
    return path

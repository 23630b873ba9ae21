"""Removing the temporary files a request, a training or a CLI call owned."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

__all__ = ["remove_files"]


def remove_files(paths: Iterable[str]) -> None:
    """Delete each path; one already gone is no error (cleanups may race or repeat)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

"""Reading a training's log file, whole or as it grows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

__all__ = ["follow"]

_CHUNK = 64 * 1024


async def follow(path: Path, finished: Callable[[], bool],
                 poll: float = 0.2) -> AsyncIterator[bytes]:
    """Yield the log's bytes from the start, then new bytes as they are written.

    Ends once ``finished()`` says the training is over and everything it wrote was read.
    """
    with open(path, "rb") as handle:
        while True:
            data = handle.read(_CHUNK)
            if data:
                yield data
                continue
            if finished():
                rest = handle.read()  # what came between the last read and the end
                if rest:
                    yield rest
                return
            await asyncio.sleep(poll)

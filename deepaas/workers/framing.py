"""Messages between the server and its prediction workers: length-prefixed pickles."""

from __future__ import annotations

import asyncio
import pickle
import socket
import struct
from typing import Any

__all__ = ["pack", "read_async", "read_blocking", "WorkerGone"]

_HEADER = struct.Struct("!I")


class WorkerGone(Exception):
    """The other side closed the connection (a worker died)."""


def pack(message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


async def read_async(reader: asyncio.StreamReader) -> Any:
    try:
        header = await reader.readexactly(_HEADER.size)
        body = await reader.readexactly(_HEADER.unpack(header)[0])
    except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
        raise WorkerGone() from exc
    return pickle.loads(body)


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise WorkerGone()
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_blocking(sock: socket.socket) -> Any:
    (size,) = _HEADER.unpack(_exactly(sock, _HEADER.size))
    return pickle.loads(_exactly(sock, size))

"""A prediction worker process: ``python -m deepaas.workers.worker FD NAME SOURCE WARM``.

It loads the module, warms it, says ``ready`` and then answers one request at a time on the
socket it was given: ``("predict", (kwargs, accept))``, or a list of such calls as
``("batch", calls)`` (one ``predict_batch``) or ``("many", calls)`` (``predict`` each).
Answers are built here (JSON or raw bytes), so only bytes travel back; errors travel as plain
dicts, since an aiohttp exception cannot be unpickled on the other side.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import traceback
from typing import Any

from deepaas.exceptions import DeepaasError, ModelError, to_wire
from deepaas.lifeline import die_with_server
from deepaas.model.loading import resolve
from deepaas.model.outputs import Answer
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.framing import WorkerGone, pack, read_blocking

__all__ = ["main", "serve_one"]


def _reply(result: Answer | DeepaasError) -> tuple[str, Any]:
    if isinstance(result, DeepaasError):
        return "error", to_wire(result)
    # nulled travels back so that the server, not each worker, warns once per field
    return "ok", (result.body, result.content_type, result.is_json, result.nulled)


def serve_one(model: ModelWrapper, loop: asyncio.AbstractEventLoop, kind: str,
               payload: Any) -> Any:
    try:
        if kind == "batch":
            return "batch", [_reply(r) for r in model.predict_many(payload)]
        if kind == "many":
            return "batch", [serve_one(model, loop, "predict", call) for call in payload]
        kwargs, accept = payload
        if model.predict_is_async:
            return _reply(loop.run_until_complete(model.apredict(kwargs, accept)))
        return _reply(model.predict(kwargs, accept))
    except DeepaasError as known:
        return _reply(known)
    except Exception as exc:  # building the answer failed: still answer, and keep serving
        failure = ModelError("Error in model '%s' predict: %s: %s"
                             % (model.name, type(exc).__name__, exc))
        failure.traceback = traceback.format_exc()
        return _reply(failure)


def main(argv: list[str]) -> int:
    die_with_server()
    fd, name, source, warm = int(argv[0]), argv[1], argv[2], argv[3] == "1"
    sock = socket.socket(fileno=fd)
    try:
        model = ModelWrapper(name, resolve(source), source)
        if warm:
            model.warm()
    except Exception as exc:
        failed = exc if isinstance(exc, DeepaasError) else ModelError(
            "%s: %s" % (type(exc).__name__, exc))
        failed.traceback = traceback.format_exc()
        with contextlib.suppress(OSError):  # the server may have gone already
            sock.sendall(pack(("failed", to_wire(failed))))
        return 1
    sock.sendall(pack(("ready", None)))
    loop = asyncio.new_event_loop()
    while True:
        try:
            kind, payload = read_blocking(sock)
        except WorkerGone:
            return 0
        sock.sendall(pack(serve_one(model, loop, kind, payload)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

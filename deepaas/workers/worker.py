"""A prediction worker process: ``python -m deepaas.workers.worker FD NAME SOURCE WARM``.

It loads the module, warms it, says :class:`~deepaas.workers.messages.Ready` (or
:class:`~deepaas.workers.messages.Failed`) and then answers one list of calls at a time on the
socket it was given, one outcome per call (``deepaas.workers.messages``), and the items of
the streams those answers hold, one per :class:`~deepaas.workers.messages.Pull`. Answers are
built here (JSON or raw bytes), so only bytes travel back; errors travel as plain data.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import traceback

from deepaas.exceptions import DeepaasError, ModelError
from deepaas.lifeline import die_with_server
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.framing import WorkerGone, pack, read_blocking
from deepaas.workers.messages import Call, Close, Error, Failed, Outcome, Pull, Ready, Result
from deepaas.workers.producing import Producers
from deepaas.workers.warmed import load_or_failed

__all__ = ["main", "serve"]


def _failure(model: ModelWrapper, exc: Exception) -> ModelError:
    """Building an answer failed: still answer, and keep serving."""
    failure = ModelError("Error in model '%s' predict: %s: %s"
                         % (model.name, type(exc).__name__, exc))
    failure.traceback = traceback.format_exc()
    return failure


def _one(model: ModelWrapper, loop: asyncio.AbstractEventLoop, call: Call) -> Result:
    try:
        if model.predict_is_async:
            return loop.run_until_complete(model.apredict(call.kwargs, call.accept))
        return model.predict(call.kwargs, call.accept)
    except DeepaasError as known:
        return known
    except Exception as exc:
        return _failure(model, exc)


def _results(model: ModelWrapper, loop: asyncio.AbstractEventLoop,
             calls: list[Call]) -> list[Result]:
    if not model.batches:
        return [_one(model, loop, call) for call in calls]
    try:
        return model.predict_many([(call.kwargs, call.accept) for call in calls])
    except DeepaasError as known:
        return [known] * len(calls)
    except Exception as exc:
        return [_failure(model, exc)] * len(calls)


def serve(model: ModelWrapper, loop: asyncio.AbstractEventLoop,
          calls: list[Call]) -> list[Outcome]:
    """One outcome per call: ``predict_batch`` once for a module that has it, else ``predict``
    for each (``nulled`` travels back in each Answer, so that the server warns once)."""
    return [Error.of(one) if isinstance(one, DeepaasError) else one
            for one in _results(model, loop, calls)]


def main(argv: list[str]) -> int:
    die_with_server()
    fd, name, source, warm = int(argv[0]), argv[1], argv[2], argv[3] == "1"
    sock = socket.socket(fileno=fd)
    model = load_or_failed(name, source, warm)
    if isinstance(model, Failed):
        with contextlib.suppress(OSError):  # the server may have gone already
            sock.sendall(pack(model))
        return 1
    sock.sendall(pack(Ready()))
    loop = asyncio.new_event_loop()
    producers = Producers(model, loop)
    while True:
        try:
            message: list[Call] | Pull | Close = read_blocking(sock)
        except WorkerGone:
            producers.close_all()  # the server went: generators' finally blocks still run
            return 0
        if isinstance(message, (Pull, Close)):
            sock.sendall(pack(producers.answer(message)))
        else:
            sock.sendall(pack(producers.register(serve(model, loop, message))))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

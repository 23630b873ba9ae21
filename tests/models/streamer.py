"""A module whose predict streams: items yielded one by one, ordered by gate files.

``gate``: before its last item the generator waits for this file. ``finished``: a file the
generator's ``finally`` writes (with the number of items it yielded). ``fail_at``: raise
after that many items. ``kind``: json (dicts), bytes, async (an async generator), mixed (a
value, then bytes) or exit (the process exits at ``fail_at``, once ``gate`` exists).
``pause``: seconds before each item; ``size``: characters of padding in each; ``progress``: a
file that holds how many items were yielded so far.
"""

import asyncio
import os
import time
from pathlib import Path

from webargs import fields


def get_predict_args():
    return {
        "n": fields.Int(load_default=3),
        "gate": fields.Str(load_default=""),
        "finished": fields.Str(load_default=""),
        "fail_at": fields.Int(load_default=-1),
        "kind": fields.Str(load_default="json"),
        "pause": fields.Float(load_default=0.0),
        "size": fields.Int(load_default=0),
        "progress": fields.Str(load_default=""),
        "accept": fields.Str(load_default="application/json",
                             validate=lambda v: v in ("application/json", "audio/wav")),
    }


def _wait_for(gate, deadline=30.0):
    end = time.monotonic() + deadline
    while gate and not os.path.exists(gate) and time.monotonic() < end:
        time.sleep(0.005)


def _item(kind, i, size=0):
    if kind == "bytes" or (kind == "mixed" and i > 0):
        return b"<%d>" % i + b"x" * size
    return {"i": i, "pid": os.getpid(), **({"pad": "x" * size} if size else {})}


def _items(n, gate, finished, fail_at, kind, pause, size=0, progress=""):
    done = 0
    try:
        for i in range(n):
            if i == fail_at and kind == "exit":
                _wait_for(gate)  # once the test has read what came before
                os._exit(3)  # the worker process dies mid-stream
            if i == fail_at:
                raise RuntimeError("broke at item %d" % i)
            if i == n - 1:
                _wait_for(gate)
            time.sleep(pause)
            yield _item(kind, i, size)
            done += 1
            if progress:
                Path(progress).write_text(str(done))
    finally:
        if finished:
            Path(finished).write_text(str(done))


async def _aitems(n, gate, finished, fail_at, kind, pause):
    done = 0
    try:
        for i in range(n):
            if i == fail_at:
                raise RuntimeError("broke at item %d" % i)
            if i == n - 1:
                while gate and not os.path.exists(gate):
                    await asyncio.sleep(0.005)
            await asyncio.sleep(pause)
            yield _item("json", i)
            done += 1
    finally:
        if finished:
            Path(finished).write_text(str(done))


def predict(n, gate, finished, fail_at, kind, pause, size, progress, accept):
    if kind == "async":
        return _aitems(n, gate, finished, fail_at, kind, pause)
    return _items(n, gate, finished, fail_at, kind, pause, size, progress)

"""A module whose predict streams, for deepaas-cli and the dashboard: JSON values, bytes, an
async generator, a generator that raises midway, one that mixes kinds. With ``gate`` (a path)
the first item comes at once and the rest only once that file exists, so a test can see the
first item arrive while the module is still producing; ``GATE.closed`` appears once the
generator is closed. ``Coroutine`` is the same as a class
whose ``predict`` is a coroutine returning an async generator (entry point
``tests.models.clistream:Coroutine``)."""

import asyncio
import os
import time

from webargs import fields, validate

KINDS = ["json", "bytes", "async", "raise", "mixed"]


def get_metadata():
    return {"name": "clistream", "description": "streams its items", "version": "0.1"}


def get_predict_args():
    return {
        "kind": fields.Str(load_default="json", validate=validate.OneOf(KINDS)),
        "n": fields.Int(load_default=3, validate=validate.Range(min=0, max=1000)),
        "gate": fields.Str(load_default="", metadata={"description": "wait for this file "
                                                      "after the first item"}),
    }


def _opened(gate, deadline=60.0):
    """Whether the gate file appeared (a bounded wait, so a broken test cannot hang)."""
    end = time.monotonic() + deadline
    while not os.path.exists(gate):
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def _item(i, n):
    return {"i": i, "of": n, "word": "item-%d" % i}


def _values(kind, n, gate):
    try:
        for i in range(n):
            if i == 1 and gate and not _opened(gate):
                raise TimeoutError("the gate %s never opened" % gate)
            print("producing %d" % i)  # deepaas-cli must keep this off its standard output
            if kind == "raise" and i == n - 1:
                raise RuntimeError("broke after %d items" % i)
            if kind == "mixed" and i == 1:
                yield b"raw"
                continue
            yield (b"chunk-%d;" % i) if kind == "bytes" else _item(i, n)
    finally:
        if gate:  # says that the generator was closed (or ended), and when
            with open(gate + ".closed", "w") as mark:
                mark.write("closed")


async def _async_values(n, gate):
    for i in range(n):
        end = time.monotonic() + 60
        while i == 1 and gate and not os.path.exists(gate):
            if time.monotonic() > end:
                raise TimeoutError("the gate %s never opened" % gate)
            await asyncio.sleep(0.01)
        yield {"i": i, "async": True}


def predict(kind="json", n=3, gate=""):
    if kind == "async":
        return _async_values(n, gate)
    return _values(kind, n, gate)


class Coroutine:
    """The same module as a class whose predict is a coroutine."""

    def get_metadata(self):
        return {"name": "clistream_coro", "version": "0.1"}

    def get_predict_args(self):
        return get_predict_args()

    async def predict(self, kind="async", n=3, gate=""):
        await asyncio.sleep(0)
        return _async_values(n, gate)

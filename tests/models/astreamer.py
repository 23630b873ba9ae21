"""A coroutine predict that returns a generator: a sync one, or an async one."""

import asyncio

from webargs import fields


def get_predict_args():
    return {"n": fields.Int(load_default=3), "kind": fields.Str(load_default="async")}


def _items(n):
    yield from range(n)


async def _aitems(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield {"a": i}


async def predict(n, kind):
    await asyncio.sleep(0)
    return _aitems(n) if kind == "async" else _items(n)

"""A coroutine predict is awaited on the event loop."""

import asyncio

from webargs import fields


def get_predict_args():
    return {"delay": fields.Float(load_default=0.0)}


async def predict(**kwargs):
    await asyncio.sleep(kwargs["delay"])
    return {"async": True}

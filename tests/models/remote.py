"""A module that tells where it predicts and declares the resources it needs."""

import os
import time

from webargs import fields

STATE = {"warm": 0}


def get_metadata():
    return {"name": "remote", "resources": {"cpus": 0.5, "memory": "64MiB"}}


def warm():
    STATE["warm"] += 1


def get_predict_args():
    return {"mode": fields.Str(load_default="ok"), "sleep": fields.Float(load_default=0.0),
            "data": fields.Field(required=False, metadata={"type": "file"})}


def predict(**kwargs):
    if kwargs["mode"] == "exit":
        os._exit(3)
    if kwargs["mode"] == "raise":
        raise ValueError("asked to fail")
    time.sleep(kwargs["sleep"])
    data = kwargs.get("data")
    text = None
    if data is not None:
        with open(data.filename) as handle:
            text = handle.read()
    return {"pid": os.getpid(), "warm": STATE["warm"], "data": text,
            "name": None if data is None else data.original_filename,
            "links": None if data is None else os.stat(data.filename).st_nlink}

"""Trainings that succeed, fail, take long, and start children of their own."""

import os
import subprocess
import sys
import time

from aiohttp import web
from webargs import fields

WARMED = {"value": False}


def warm():
    WARMED["value"] = True


def get_train_args():
    return {
        "epochs": fields.Int(load_default=1),
        "sleep": fields.Float(load_default=0.0),
        "fail": fields.Str(load_default="no"),
        "pidfile": fields.Str(load_default=""),
        "data": fields.Field(required=False, metadata={"type": "file"}),
    }


def predict(**kwargs):
    return {"warmed": WARMED["value"]}


def train(**kwargs):
    print("training starts", flush=True)
    if kwargs["pidfile"]:
        # A grandchild that would outlive a careless cancel.
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open(kwargs["pidfile"], "w") as handle:
            handle.write("%d %d" % (os.getpid(), child.pid))
    time.sleep(kwargs["sleep"])
    if kwargs["fail"] == "value":
        raise ValueError("training exploded")
    if kwargs["fail"] == "http":
        raise web.HTTPConflict(reason="module conflict")
    if kwargs["fail"] == "exit":
        os._exit(3)
    data = kwargs.get("data")
    out = {"epochs": kwargs["epochs"], "warmed": WARMED["value"], "odd": {1, 2}}
    if data is not None:
        with open(data.filename) as handle:
            out["data"] = handle.read()
        out["data_path"] = data.filename
    return out

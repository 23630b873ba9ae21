"""Trainings that succeed, fail, take long, and start children of their own."""

import os
import signal
import subprocess
import sys
import time

from aiohttp import web
from webargs import fields

from deepaas import progress

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
        "steps": fields.Int(load_default=0),
        "lines": fields.Int(load_default=0),
        "gate": fields.Str(load_default=""),
        "stubborn": fields.Bool(load_default=False),
        "outputs": fields.Bool(load_default=False),
    }


def predict(**kwargs):
    return {"warmed": WARMED["value"]}


def train(**kwargs):
    print("training starts", flush=True)
    if kwargs["stubborn"]:  # ignores SIGTERM: only the SIGKILL after the grace period works
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if kwargs["pidfile"]:
        # A grandchild that would outlive a careless cancel.
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open(kwargs["pidfile"], "w") as handle:
            handle.write("%d %d" % (os.getpid(), child.pid))
    for step in range(1, kwargs["steps"] + 1):
        progress.report(step=step, total=kwargs["steps"], loss=1.0 / step, accuracy=step / 10)
    for i in range(kwargs["lines"]):
        print("line %d of the training log" % i)
    if kwargs["gate"]:
        # Wait until the test opens the gate: lets it watch a training that is mid-way.
        print("waiting at the gate", flush=True)
        while not os.path.exists(kwargs["gate"]):
            time.sleep(0.02)
        print("through the gate", flush=True)
    time.sleep(kwargs["sleep"])
    if kwargs["fail"] == "value":
        raise ValueError("training exploded")
    if kwargs["fail"] == "http":
        raise web.HTTPConflict(reason="module conflict")
    if kwargs["fail"] == "exit":
        os._exit(3)
    if kwargs["outputs"]:  # what a user takes away: weights and a plot's data
        folder = progress.output_dir()
        with open(os.path.join(folder, "model.bin"), "wb") as handle:
            handle.write(b"\x00weights" * 100)
        os.makedirs(os.path.join(folder, "plots"), exist_ok=True)
        with open(os.path.join(folder, "plots", "loss.csv"), "w") as handle:
            handle.write("step,loss\n1,0.5\n")
    data = kwargs.get("data")
    out = {"epochs": kwargs["epochs"], "warmed": WARMED["value"], "odd": {1, 2}}
    if data is not None:
        with open(data.filename) as handle:
            out["data"] = handle.read()
        out["data_path"] = data.filename
    return out

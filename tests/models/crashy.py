"""A module that crashes its process in the ways real ones do, or takes its time."""

import ctypes
import os
import signal
import time

from webargs import fields

STATE = {"warm": 0}


def warm():
    STATE["warm"] += 1


def get_predict_args():
    return {"mode": fields.Str(load_default="ok"), "sleep": fields.Float(load_default=0.0),
            "n": fields.Int(load_default=1), "path": fields.Str(load_default=""),
            "data": fields.Field(required=False, metadata={"type": "file"})}


def _gate(path):
    open(path + ".running", "w").close()
    deadline = time.monotonic() + 30
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)


def predict(**kwargs):
    mode = kwargs["mode"]
    if mode == "raise":
        raise ValueError("asked to fail")
    if mode == "exit":
        os._exit(3)
    if mode == "segfault":
        ctypes.string_at(0)
    if mode == "oom-killed":  # what the kernel's OOM killer does
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "gate":  # say it runs, then hold the worker until the test opens the gate
        _gate(kwargs["path"])
    if mode == "touch":  # leave a mark: a test that dropped this prediction checks it is absent
        open(kwargs["path"], "w").close()
    time.sleep(kwargs["sleep"])
    return {"pid": os.getpid(), "warm": STATE["warm"]}

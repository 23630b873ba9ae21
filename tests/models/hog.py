"""A training that tells what it was given (CPUs, GPU variables) and can eat memory."""

import json
import os
import subprocess
import sys
import time

from webargs import fields

_GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")
_CHUNK = 32 << 20  # allocate in steps, so that a limit stops it part way


def get_train_args():
    return {
        "eat": fields.Int(load_default=0),  # MiB to allocate and touch
        "report": fields.Str(load_default=""),  # where to write what it sees, at once
        "gate": fields.Str(load_default=""),  # wait for this file before going on
        "spawn": fields.Bool(load_default=False),  # also tell a child process's CPUs
    }


def predict(**kwargs):
    return {"alive": True}


def _seen(spawn):
    seen = {"cpus": sorted(os.sched_getaffinity(0)),
            "env": {name: os.environ.get(name) for name in _GPU_VARIABLES}}
    if spawn:
        code = "import os; print(sorted(os.sched_getaffinity(0)))"
        seen["child_cpus"] = json.loads(subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    return seen


def train(**kwargs):
    seen = _seen(kwargs["spawn"])
    if kwargs["report"]:
        with open(kwargs["report"] + ".part", "w") as handle:
            json.dump(seen, handle)
        os.replace(kwargs["report"] + ".part", kwargs["report"])
    while kwargs["gate"] and not os.path.exists(kwargs["gate"]):
        time.sleep(0.02)
    held = []
    for _ in range(kwargs["eat"] * (1 << 20) // _CHUNK):
        held.append(b"\x01" * _CHUNK)  # written, so every page is really used
    return dict(seen, ate=len(held) * _CHUNK >> 20)

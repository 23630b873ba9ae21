"""A training that needs the whole (2-CPU) test cluster, as its metadata says."""

import os
import time

from webargs import fields


def get_metadata():
    return {"name": "heavy", "resources": {"cpus": 2}}


def get_train_args():
    return {"gate": fields.Str(required=True)}


def train(**kwargs):
    began = time.time()
    print("waiting at the gate", flush=True)
    while not os.path.exists(kwargs["gate"]):
        time.sleep(0.02)
    return {"pid": os.getpid(), "began": began, "ended": time.time()}

"""A module that predicts in batches; every call is recorded for the tests."""

import threading
import time

from webargs import fields, validate

CALLS: list[int] = []
LOCK = threading.Lock()
max_batch_size = 8
max_batch_delay_ms = 50


def get_predict_args():
    return {
        "x": fields.Int(required=True),
        "accept": fields.Str(load_default="application/json",
                             validate=validate.OneOf(["application/json", "text/plain"])),
    }


def predict(**kwargs):
    return predict_batch([kwargs])[0]


def predict_batch(batch):
    with LOCK:
        CALLS.append(len(batch))
    time.sleep(0.02)  # a fixed cost per call, as for a model on a GPU
    out = []
    for kwargs in batch:
        if kwargs["x"] < 0:
            out.append(ValueError("negative x: %d" % kwargs["x"]))
        elif kwargs["accept"] == "text/plain":
            out.append("x=%d" % kwargs["x"])
        else:
            out.append({"double": 2 * kwargs["x"], "batch": len(batch)})
    return out

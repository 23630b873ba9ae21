"""warm() takes a while: probes must say "not ready" meanwhile, predictions must wait."""

import time

STATE = {"warm": False}


def warm():
    time.sleep(1.0)
    STATE["warm"] = True


def predict(**kwargs):
    return {"warm": STATE["warm"]}

"""Predictions that wait at a gate file, so tests order by files rather than by sleeps.

``gate``: a path; predict writes ``<gate>.in`` when it starts, then waits until the gate file
exists (at most 30 s). ``fail`` raises; ``accept=image/png`` answers bytes; ``data`` (an
upload) is read after the gate.
"""

import os
import time
from pathlib import Path

from webargs import fields, validate


def get_predict_args():
    return {
        "gate": fields.Str(load_default=""),
        "n": fields.Int(load_default=1),
        "fail": fields.Bool(load_default=False),
        "data": fields.Field(required=False, type="file", location="form"),
        "accept": fields.Str(load_default="application/json", validate=validate.OneOf(
            ["application/json", "image/png"])),
    }


def predict(gate, n, fail, accept, data=None):
    if gate:
        Path(gate + ".in").touch()
        deadline = time.monotonic() + 30
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.01)
    if fail:
        raise ValueError("asked to fail")
    if accept == "image/png":
        return b"\x89PNG\r\n\x1a\n" + bytes(n)
    if data is not None:
        return {"n": n, "text": Path(data.filename).read_text()}
    return {"n": n, "doubled": 2 * n}

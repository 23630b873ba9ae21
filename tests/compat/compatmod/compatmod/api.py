"""A DEEPaaS 2.x module in the old style: legacy marshmallow keywords, files, accept, trainings."""
import io
import time

from aiohttp import web
from webargs import fields, validate


def get_metadata():
    return {"name": "compatmod", "description": "contract-only module", "version": "1.0",
            "author": "tests", "license": "MIT"}


def warm():
    global WARMED
    WARMED = True


WARMED = False


def get_predict_args():
    return {
        "repeat": fields.Int(required=True, description="times to repeat"),
        "text": fields.Str(missing="hi", description="what to say"),
        "mode": fields.Str(missing="fast", enum=["fast", "slow"],
                           validate=validate.OneOf(["fast", "slow"])),
        "ratio": fields.Float(missing=0.5, validate=validate.Range(min=0, max=1)),
        "flag": fields.Bool(missing=False),
        "ids": fields.List(fields.Int(), missing=[1]),
        "secret": fields.Str(required=False, format="password", description="a password"),
        "opt": fields.Int(required=False),
        "wire": fields.Str(data_key="wire-name", missing="w"),
        "data": fields.Field(required=False, type="file", location="form", description="a file"),
        "accept": fields.Str(missing="application/json", validate=validate.OneOf(
            ["application/json", "text/plain", "image/png"])),
        "fail": fields.Str(missing="no", enum=["no", "value", "http", "set"]),
    }


def predict(**kwargs):
    fail = kwargs.get("fail")
    if fail == "value":
        raise ValueError("asked to fail")
    if fail == "http":
        raise web.HTTPBadRequest(reason="module says no")
    if fail == "set":
        return {1, 2, 3}
    accept = kwargs.get("accept")
    if accept == "text/plain":
        return kwargs["text"] * kwargs["repeat"]
    if accept == "image/png":
        return io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 16)
    out = {k: v for k, v in kwargs.items() if k != "data"}
    if kwargs.get("data") is not None:
        d = kwargs["data"]
        with open(d.filename, "rb") as f:
            out["data"] = [d.name, d.original_filename, len(f.read())]
    out["warmed"] = WARMED
    return out


def get_train_args():
    return {
        "epochs": fields.Int(missing=1, description="epochs"),
        "sleep": fields.Float(missing=0.0),
        "crash": fields.Bool(missing=False),
    }


def train(**kwargs):
    time.sleep(kwargs["sleep"])
    if kwargs["crash"]:
        raise RuntimeError("training exploded")
    return {"epochs": kwargs["epochs"], "loss": 0.1}

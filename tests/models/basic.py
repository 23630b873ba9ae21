"""A module-style fake written the DEEPaaS 2.x way: legacy keywords, files, accept, failures."""

import io
import os

from aiohttp import web
from webargs import fields, validate

from deepaas.model.v2.wrapper import ReturnedFile

STATE = {"warm_calls": 0}


def get_metadata():
    return {"name": "basic", "description": "a fake", "version": "0.1", "id": "basic-id"}


def warm():
    STATE["warm_calls"] += 1


def get_predict_args():
    return {
        "n": fields.Int(required=True, description="how many"),
        "word": fields.Str(missing="hi"),
        "mode": fields.Str(missing="fast", enum=["fast", "slow"],
                           validate=validate.OneOf(["fast", "slow"])),
        "ratio": fields.Float(missing=0.5, validate=validate.Range(min=0, max=1)),
        "flag": fields.Bool(missing=False),
        "ids": fields.List(fields.Int(), missing=[1]),
        "opt": fields.Int(required=False),
        "wire": fields.Str(data_key="wire-name", missing="w"),
        "data": fields.Field(required=False, type="file", location="form"),
        "other": fields.Field(required=False, metadata={"type": "file", "location": "form"}),
        "hidden": fields.Str(dump_only=True),
        "accept": fields.Str(missing="application/json", validate=validate.OneOf(
            ["application/json", "text/plain", "image/png", "application/octet-stream",
             "text/csv", "image/*"])),
        "ret": fields.Str(missing="dict"),
    }


def _file_info(upload):
    if upload is None:
        return None
    with open(upload.filename, "rb") as handle:
        content = handle.read()
    return {"name": upload.name, "original_filename": upload.original_filename,
            "content_type": upload.content_type, "size": len(content),
            "text": content.decode("utf-8", "replace"), "path": upload.filename,
            "exists": os.path.exists(upload.filename)}


def predict(**kwargs):
    ret = kwargs.pop("ret")
    accept = kwargs.get("accept")
    if ret == "value-error":
        raise ValueError("asked to fail")
    if ret == "http-error":
        raise web.HTTPBadRequest(reason="module says no")
    if ret == "not-implemented":
        raise NotImplementedError()
    if ret == "set":
        return {3, 1, 2}
    if accept == "text/plain":
        return kwargs["word"] * kwargs["n"]
    if accept == "image/png":
        return b"\x89PNG\r\n\x1a\n" + bytes(kwargs["n"])
    if accept == "application/octet-stream":
        return io.BytesIO(b"\x00\x01" * kwargs["n"])
    if accept == "text/csv":
        path = os.path.join(os.path.dirname(__file__), "table.csv")
        return ReturnedFile(name="table", filename=path, content_type="text/csv")
    if accept == "image/*":
        return open(os.path.join(os.path.dirname(__file__), "table.csv"), "rb")
    out = dict(kwargs)
    for key in ("data", "other"):
        if key in out:
            out[key] = _file_info(out[key])
    out["warm_calls"] = STATE["warm_calls"]
    return out

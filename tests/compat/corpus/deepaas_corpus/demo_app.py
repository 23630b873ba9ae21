"""Mirrors the interface of deephdc/demo_app (demo_app/api.py).

What it keeps: hyphenated argument names; a string choice declared with ``enum`` only; an int with
``validate=[validate.Range(...)]`` (a list of validators); a dict passed as a JSON string; a list
of floats with a list default; three optional file arguments (``type="file"``,
``location="form"``, described); a module-level ``schema`` given as a dict of fields (among them
``fields.Dict`` and strings carrying a description) that the prediction is validated against;
predict wrapped to re-raise any error as ``HTTPBadRequest(reason=<the exception>)``; the media
files answered back in base64. No training.

Unlike the real module (which reads all three files and fails without them, and draws random
probabilities), a missing file is left out and the probabilities are fixed.
"""

import base64
import functools
import json

from aiohttp.web import HTTPBadRequest
from webargs import fields, validate

MEDIA = ("demo-image", "demo-audio", "demo-video")


def _as_bad_request(func):
    @functools.wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            raise HTTPBadRequest(reason=exc) from exc
    return call


def get_metadata():
    return {"author": "Demo author", "description": "A toy module that echoes its inputs.",
            "license": "MIT", "url": "https://github.com/deephdc/demo_app", "version": "0.1",
            "summary": "Echoes every kind of argument back."}


def get_predict_args():
    return {
        "demo-str": fields.Str(required=False, missing="some-string"),
        "demo-str-choice": fields.Str(required=False, missing="choice2",
                                      enum=["choice1", "choice2"]),
        "demo-int": fields.Int(required=False, missing=1),
        "demo-int-range": fields.Int(required=False, missing=50,
                                     validate=[validate.Range(min=1, max=100)]),
        "demo-float": fields.Float(required=False, missing=0.1),
        "demo-bool": fields.Bool(required=False, missing=True),
        "demo-dict": fields.Str(required=False, missing='{"a": 0, "b": 1}'),
        "demo-list-of-floats": fields.List(fields.Float(), required=False,
                                           missing=[0.1, 0.2, 0.3]),
        "demo-image": fields.Field(required=False, type="file", location="form",
                                   description="image"),
        "demo-audio": fields.Field(required=False, type="file", location="form",
                                   description="audio"),
        "demo-video": fields.Field(required=False, type="file", location="form",
                                   description="video"),
    }


@_as_bad_request
def predict(**kwargs):
    kwargs["demo-dict"] = json.loads(kwargs["demo-dict"])
    weights = [5, 4, 3, 2, 1]
    kwargs["probabilities"] = [w / sum(weights) for w in weights]
    kwargs["labels"] = ["class2", "class3", "class0", "class1", "class4"]
    for key in MEDIA:
        if key not in kwargs:
            continue
        value = kwargs[key]
        if not hasattr(value, "filename"):
            kwargs[key] = "not a file: %s" % (value,)
            continue
        with open(value.filename, "rb") as handle:
            kwargs[key] = base64.b64encode(handle.read()).decode("utf-8")
    return kwargs


schema = {
    "demo-str": fields.Str(),
    "demo-str-choice": fields.Str(),
    "demo-int": fields.Int(),
    "demo-int-range": fields.Int(),
    "demo-float": fields.Float(),
    "demo-bool": fields.Bool(),
    "demo-dict": fields.Dict(),
    "demo-list-of-floats": fields.List(fields.Float()),
    "demo-image": fields.Str(description="image"),
    "demo-audio": fields.Str(description="audio"),
    "demo-video": fields.Str(description="video"),
    "labels": fields.List(fields.Str()),
    "probabilities": fields.List(fields.Float()),
}

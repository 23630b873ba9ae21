"""Mirrors the interface of deephdc/dogs_breed_det (dogs_breed_det/models/deep_api.py and
dogs_breed_det/config.py).

What it keeps: arguments declared on marshmallow Schema classes (``unknown = INCLUDE``) and handed
over as bound fields (``Schema().fields``); the upload is the attribute ``files`` sent as the form
part ``data`` (``data_key``, ``location="form"``, ``type="file"``) beside an optional ``urls`` Url;
``enum`` lists without a validator; predict and train wrapped so that any error is re-raised as
``HTTPBadRequest(reason=<the exception>)`` (which current aiohttp refuses with a TypeError); the
module deletes the uploaded file itself; train loads its keyword arguments again through the
schema; metadata describing the arguments from ``field.missing`` / ``field.metadata``.
"""

import functools
import os

from aiohttp.web import HTTPBadRequest
from marshmallow import INCLUDE, Schema
from webargs import fields

NETWORKS = ["Resnet50", "InceptionV3", "VGG16", "VGG19"]
BREEDS = ["Beagle", "Boxer", "Dalmatian", "Collie", "Poodle"]


class PredictArgsSchema(Schema):
    class Meta:
        unknown = INCLUDE

    network = fields.Str(required=False, missing=NETWORKS[0], enum=NETWORKS,
                         description="Network used to classify")
    files = fields.Field(required=False, missing=None, type="file", data_key="data",
                         location="form", description="Image to classify")
    urls = fields.Url(required=False, missing=None, description="URL of an image to classify")


class TrainArgsSchema(Schema):
    class Meta:
        unknown = INCLUDE

    num_epochs = fields.Integer(required=False, missing=1, description="Epochs to train")
    network = fields.Str(required=False, missing=NETWORKS[0], enum=NETWORKS,
                         description="Network to train")
    sys_info = fields.Boolean(required=False, missing=False, enum=[True, False],
                              description="Report the machine's resources")


def _as_bad_request(func):
    @functools.wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            raise HTTPBadRequest(reason=exc) from exc
    return call


def _describe(declared):
    out = {}
    for name, field in declared.items():
        text = field.metadata["description"]
        if "enum" in field.metadata:
            text += ". Choices: %s" % field.metadata["enum"]
        kind = str if name in ("files", "urls") else type(field.missing)
        out[name] = {"default": field.missing, "type": str(kind), "help": text,
                     "required": field.required}
    return out


def get_metadata():
    return {"name": "dogs_breed_det", "version": "0.3.0", "summary": "Dog breed classifier",
            "home-page": "https://github.com/deephdc/dogs_breed_det", "author": "V. K.",
            "author-email": "vk@example.org", "license": "MIT",
            "help-train": _describe(get_train_args()),
            "help-predict": _describe(get_predict_args())}


def get_predict_args():
    return PredictArgsSchema().fields


def get_train_args():
    return TrainArgsSchema().fields


@_as_bad_request
def predict(**kwargs):
    if not any([kwargs["urls"], kwargs["files"]]) or all([kwargs["urls"], kwargs["files"]]):
        raise Exception("Provide either an uploaded image (data) or a URL (urls)")
    if not kwargs["files"]:
        return {"Error": "URLs are not handled by this model yet"}
    upload = kwargs["files"]
    try:
        size = os.path.getsize(upload.filename)
        ranked = sorted(BREEDS, key=lambda breed: (len(breed) * size) % 7)
        return [{"network": kwargs["network"], "image": upload.original_filename,
                 "field": upload.name, "content_type": upload.content_type,
                 "labels": ranked[:3], "probabilities": [0.5, 0.3, 0.2]}]
    finally:
        os.remove(upload.filename)


@_as_bad_request
def train(**kwargs):
    args = TrainArgsSchema().load(kwargs)
    return {"status": "ok", "sys_info": [{"cpu": "x"}] if args["sys_info"] else [],
            "training": [{"network": args["network"], "epochs": args["num_epochs"],
                          "accuracy": 81.5}]}

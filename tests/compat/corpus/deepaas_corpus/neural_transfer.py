"""Mirrors the interface of deephdc/neural_transfer (neural_transfer/models/deep_api.py and
neural_transfer/config.py).

What it keeps: Schema classes (``unknown=INCLUDE``) given as bound fields; the content image is the
attribute ``img_content`` sent as the form part ``image_content`` (``data_key``); an ``accept``
choice between a PNG and a PDF whose ``missing`` is the first choice, declared with the typo
``require=False`` (an extra metadata key); predict answers an open binary file (``open(path,
"rb")``) and, without an image, fails with a TypeError (the real module raises a plain string);
train with one required string and defaults of another type than the field's (``Boolean`` with
``missing=1``, large floats such as ``1e10``); metadata with a list of available styles.
"""

import os
import tempfile

from marshmallow import INCLUDE, Schema
from webargs import fields, validate

STYLES = ["mosaic", "udnie", "candy", "rain_princess"]
RESULTS = {"image/png": (".png", b"\x89PNG\r\n\x1a\n" + b"\x01" * 40),
           "application/pdf": (".pdf", b"%PDF-1.4\n% styled pair\n%%EOF\n")}


class PredictArgsSchema(Schema):
    class Meta:
        unknown = INCLUDE

    img_content = fields.Field(required=False, missing=None, type="file",
                               data_key="image_content", location="form",
                               description="Image to be styled.")
    accept = fields.Str(require=False, missing="image/png",
                        validate=validate.OneOf(["image/png", "application/pdf"]),
                        description="The styled image, or a PDF with the images side by side.")
    model_name = fields.Str(required=False, missing="mosaic",
                            description="Name of the style model (mosaic, candy, ...).")


class TrainArgsSchema(Schema):
    class Meta:
        unknown = INCLUDE

    model_name = fields.Str(required=True, description="Name of the style model.")
    upload_model = fields.Boolean(required=False, missing=1, description="Upload it afterwards.")
    epochs = fields.Int(required=False, missing=2, description="Training epochs.")
    learning_rate = fields.Float(required=False, missing=0.003, description="Learning rate.")
    batch_size = fields.Int(required=False, missing=4, description="Batch size.")
    content_weight = fields.Float(required=False, missing=1e5, description="Content loss weight.")
    style_weight = fields.Float(required=False, missing=1e10, description="Style loss weight.")
    size_train_img = fields.Int(required=False, missing=256, description="Training image size.")
    log_interval = fields.Float(required=False, missing=500, description="Log every N images.")


def get_metadata():
    return {"name": "neural_transfer", "models": STYLES + ["my_style"], "version": "0.0.1",
            "summary": "Neural style transfer", "home-page": None, "author": "S. S.",
            "author-email": None, "license": "MIT"}


def warm():
    pass


def get_predict_args():
    return PredictArgsSchema().fields


def get_train_args():
    return TrainArgsSchema().fields


def predict(**kwargs):
    if kwargs["img_content"] is None or kwargs["model_name"] is None:
        raise TypeError("exceptions must derive from BaseException")
    with open(kwargs["img_content"].filename, "rb") as handle:
        seen = len(handle.read())
    suffix, body = RESULTS.get(kwargs["accept"], RESULTS["application/pdf"])
    style = "".join(c for c in kwargs["model_name"] if c.isalnum())
    path = os.path.join(tempfile.gettempdir(), "neural_transfer_%s_%d%s" % (style, seen, suffix))
    with open(path, "wb") as handle:
        handle.write(body)
    return open(path, "rb")


def train(**kwargs):
    loss = kwargs["content_weight"] / 1e5 + kwargs["style_weight"] / 1e10
    return {"status": "ok", "training": [{"Total loss": loss, "Content loss": 1.0,
                                          "Style loss": loss - 1.0,
                                          "style": kwargs["model_name"],
                                          "uploaded": bool(kwargs["upload_model"])}]}

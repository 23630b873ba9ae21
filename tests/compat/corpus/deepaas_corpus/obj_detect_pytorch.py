"""Mirrors the interface of deephdc/obj_detect_pytorch (obj_detect_pytorch/models/deepaas_api.py and
obj_detect_pytorch/config.py).

What it keeps: plain dicts of fields built on each call; a required file ``files``
(``type="file"``, ``location="form"``); numbers declared as ``fields.Str`` with numeric defaults
(``missing=0.8``, ``missing=2``) that the module converts itself; an ``accept`` whose default is the
PNG (so a bare request answers an image), declared with the typo ``require=False``; predict answers
an open PNG file, a dict of boxes, or the plain string ``'Model not found.'``; a failed conversion
is a ValueError; train takes three required strings and answers a string (``"Done."`` /
``"Error."``); metadata with capitalised keys and the list of models as a string.
"""

import os
import tempfile

from webargs import fields, validate

CATEGORIES = ["__background__", "person", "bicycle", "car", "dog"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 20


def get_metadata():
    return {"Name": "obj_detect_pytorch", "Models": str(["COCO", "trained_model"]),
            "Version": "0.1", "Summary": "Object detection with PyTorch",
            "Home-page": None, "Author": "A. A.", "Author-email": None, "License": "MIT"}


def warm():
    pass


def get_train_args():
    return {
        "model_name": fields.Str(required=True, description="Name of the new model."),
        "num_classes": fields.Str(required=True, description="Classes, background included."),
        "class_names": fields.Str(required=True, description="Comma separated class names."),
        "num_epochs": fields.Str(required=False, missing=1, description="Training epochs."),
        "learning_rate": fields.Str(required=False, missing=0.005, description="Learning rate."),
        "momentum": fields.Str(required=False, missing=0.9, description="Momentum factor."),
        "step_size": fields.Str(required=False, missing=3, description="LR decay period."),
        "upload_model": fields.Str(required=False, missing=False, enum=[True, False],
                                   description="Upload the model afterwards."),
    }


def get_predict_args():
    return {
        "model_name": fields.Str(required=False, missing="COCO", description="Model to use."),
        "files": fields.Field(description="Data file to perform inference on.", required=True,
                              type="file", location="form"),
        "threshold": fields.Str(required=False, missing=0.8, description="Probability cut."),
        "box_thickness": fields.Str(required=False, missing=2, description="Box line width."),
        "text_size": fields.Str(required=False, missing=1, description="Label text size."),
        "accept": fields.Str(require=False, missing="image/png",
                             description="An image with the boxes, or the boxes as JSON.",
                             validate=validate.OneOf(["image/png", "application/json"])),
    }


def predict(**args):
    if args["model_name"] != "COCO":
        return "Model not found."
    try:
        threshold = float(args["threshold"])
        thickness = int(args["box_thickness"])
        with open(args["files"].filename, "rb") as handle:
            size = len(handle.read())
    except Exception:
        raise ValueError("Failed parsing the input values. Check if the inputs meet the "
                         "conditions.") from None
    found = [(CATEGORIES[1 + i % 4], round(0.95 - 0.1 * i, 2)) for i in range(size % 5 + 1)]
    found = [(name, score) for name, score in found if score > threshold]
    if args["accept"] == "image/png":
        path = os.path.join(tempfile.gettempdir(), "obj_detect_classification_map.png")
        with open(path, "wb") as handle:
            handle.write(PNG + bytes([thickness % 256]))
        return open(path, "rb")
    return {"status": "ok", "predictions": [
        {"class": name, "probability": score, "box": [[1, 2], [3 + thickness, 4]]}
        for name, score in found]}


def train(**args):
    classes = args["class_names"].split(",")
    if len(classes) != int(args["num_classes"]):
        return "Error."
    return "Done."

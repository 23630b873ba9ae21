"""Mirrors the interface of deephdc/image-classification-tf (imgclas/api.py and etc/config.yaml).

What it keeps: arguments generated from a YAML-like configuration into an ``OrderedDict``: every
option is a ``fields.Str`` whose default is the option's value dumped as JSON (``'0.001'``,
``'null'``, ``'[0.7, 0.9]'``, ``'{"h_flip": 0.5}'``), whose choices are JSON-dumped ``enum``
strings, and whose description carries HTML (``<font>``) and the group name; predict also takes a
form file ``files`` sent as ``data`` (``data_key``) or a ``urls`` string; predict loads every option
back with ``json.loads``, checks the upload's content type, deletes the upload, and answers
``{"status": "ok", "predictions": [...]}`` built with numpy then cast to plain numbers; train
answers nothing (``None``); metadata with capitalised keys.

Like the real module, predict is wrapped by a decorator without ``functools.wraps``: the reference
cannot pickle it for its worker processes, so every prediction fails there with a text 500.
"""

import json
import os
from collections import OrderedDict

import numpy as np
from aiohttp.web import HTTPBadRequest
from webargs import fields

CONF = {
    "model": {"modelname": {"value": "Xception", "type": "str",
                            "choices": ["DenseNet121", "Xception", "ResNet50", "VGG16"],
                            "help": "Model to train."},
              "image_size": {"value": 224, "type": "int", "help": "Image size fed to the model."},
              "num_classes": {"value": None, "type": "int", "help": "Number of classes."}},
    "training": {"mode": {"value": "normal", "type": "str", "choices": ["normal", "fast"],
                          "help": "Training mode."},
                 "initial_lr": {"value": 0.001, "type": "float", "help": "Initial rate."},
                 "lr_step_schedule": {"value": [0.7, 0.9], "type": "list",
                                      "help": "Fractions of the epochs at which to decay."},
                 "use_early_stopping": {"value": False, "type": "bool", "help": "Stop early."}},
    "augmentation": {"train_mode": {"value": {"h_flip": 0.5, "rot": 0.7},
                                    "help": "Augmentation parameters for training."}},
    "testing": {"timestamp": {"value": "2018-09-01_120000", "type": "str",
                              "choices": ["2018-09-01_120000", "2019-02-10_093000"],
                              "help": "Model timestamp to use for prediction."},
                "ckpt_name": {"value": "final_model.h5", "type": "str",
                              "help": "Checkpoint to use for prediction."}},
}
CLASSES = ["Acer campestre", "Bellis perennis", "Quercus robur", "Rosa canina", "Tilia cordata"]
ALLOWED = {"png", "jpg", "jpeg", "PNG", "JPG", "JPEG"}


def _populate(parser, groups):
    for group in groups:
        for key, option in CONF[group].items():
            text = option["help"] + "\n<font color='#C5576B'> Group name: **%s**" % group
            if "choices" in option:
                text += "\nChoices: %s" % option["choices"]
            if "type" in option:
                text += "\nType: %s" % option["type"]
            kwargs = {"missing": json.dumps(option["value"]), "description": text + "</font>",
                      "required": False}
            if "choices" in option:
                kwargs["enum"] = [json.dumps(choice) for choice in option["choices"]]
            parser[key] = fields.Str(**kwargs)
    return parser


def _catch_error(func):
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            raise HTTPBadRequest(reason=exc) from exc
    return call


def get_metadata():
    return {"Name": "imgclas", "Version": "0.1", "Summary": "Image classification",
            "Home-page": "https://github.com/deephdc/image-classification-tf",
            "Author": "I. H.", "Author-email": None, "License": "MIT"}


def get_train_args():
    return _populate(OrderedDict(), ["model", "training", "augmentation"])


def get_predict_args():
    parser = OrderedDict()
    parser["files"] = fields.Field(required=False, missing=None, type="file", data_key="data",
                                   location="form", description="Image to classify.")
    parser["urls"] = fields.String(required=False, missing=None,
                                   description="URL of the image to classify.")
    return _populate(parser, ["testing"])


def _format(labels, probabilities):
    return {"status": "ok", "predictions": [
        {"label_id": int(label), "label": CLASSES[label], "probability": float(prob),
         "info": {"links": {"Wikipedia": "https://en.wikipedia.org/wiki/"
                            + CLASSES[label].replace(" ", "_")}, "metadata": ""}}
        for label, prob in zip(labels, probabilities, strict=True)]}


@_catch_error
def predict(**args):
    if not any([args["urls"], args["files"]]) or all([args["urls"], args["files"]]):
        raise Exception("You must provide either 'url' or 'data' in the payload")
    options = {key: json.loads(args[key]) for key in CONF["testing"]}
    if args["files"]:
        upload = args["files"]
        if upload.content_type.split("/")[-1] not in ALLOWED:
            raise ValueError("Local image format error: not a standard image format")
        try:
            seed = os.path.getsize(upload.filename) + sum(map(ord, options["timestamp"] or ""))
        finally:
            os.remove(upload.filename)
    else:
        seed = len(args["urls"])
    scores = np.array([(seed * (i + 3)) % 11 + 1 for i in range(len(CLASSES))], dtype=np.float32)
    order = np.argsort(-scores, kind="stable")[:3]
    return _format(order, scores[order] / scores.sum())


def train(**args):
    options = {key: json.loads(value) for key, value in args.items()}
    CONF["training"]["initial_lr"]["last_used"] = options["initial_lr"]

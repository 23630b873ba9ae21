"""Mirrors the interface of ai4os-hub/integrated-plant-protection
(integrated_plant_protection/api.py, integrated_plant_protection/config.py, etc/config.yaml):
classification of sick and healthy sugar-beet plants.

Interface kept: the image argument is ``fields.Field(required=False, missing=None, type="file",
data_key="data", location="form")`` (attribute ``files``, wire name ``data``); ``urls`` is a
string with ``missing=None``; every other argument is generated from a YAML-like configuration
as ``fields.Str`` whose ``missing`` is the JSON-encoded default (``'"model_0013.pt"'``), with an
HTML-tagged ``description`` and ``enum`` of JSON-encoded choices; the module decodes the values
with ``json.loads``. ``predict`` is wrapped so that it answers ``{"status": "OK",
"predictions": ...}`` or ``{"status": "error", "message": ...}``, which the dict ``schema``
(``status``, ``message``, ``predictions``) validates; it reads ``content_type`` and deletes the
uploaded files itself. ``train`` returns ``{"modelname": TIMESTAMP}``.
"""

import json
import os
from collections import OrderedDict
from functools import wraps

from webargs import fields

ALLOWED = {"png", "jpg", "jpeg", "PNG", "JPG", "JPEG"}
TIMESTAMPS = ["2024-01-10_120000", "2024-02-01_093000"]
CONF = {
    "testing": {
        "timestamp": {"value": TIMESTAMPS[-1], "type": "str", "choices": TIMESTAMPS,
                      "help": "Model timestamp to use for prediction."},
        "ckpt_name": {"value": "model_0013.pt", "type": "str",
                      "help": "Checkpoint inside the timestamp."},
    },
    "base": {
        "batch_size": {"value": 32, "type": "int", "help": ""},
        "epochs": {"value": 10, "type": "int", "help": ""},
        "learning_rate": {"value": 0.001, "type": "float", "help": ""},
        "channels": {"value": [32, 64, 128, 256], "type": "list", "help": ""},
        "mlflow": {"value": False, "type": "bool", "help": ""},
        "experiment": {"value": "ai4eosc", "type": "str", "help": ""},
        "use_preprocess_model": {"value": "", "type": "str", "choices": ["", "unet.pth"],
                                 "help": "Segmentation model applied first."},
    },
    "general": {
        "base_directory": {"value": ".", "type": "str", "help": "Base directory for data."},
    },
}


def get_metadata():
    return {"name": "integrated_plant_protection", "version": "0.0.1",
            "summary": "Sick or healthy beet classification.", "home-page": None,
            "author": "PSNC", "author-email": "psnc@example.org", "license": "MIT"}


def _populate(parser, groups):
    for group in groups:
        for key, item in CONF[group].items():
            text = item["help"] + "\n<font color='#C5576B'> Group name: **%s**" % group
            if "choices" in item:
                text += "\nChoices: %s" % item["choices"]
            text += "\nType: %s</font>" % item["type"]
            opts = {"missing": json.dumps(item["value"]), "description": text,
                    "required": False}
            if "choices" in item:
                opts["enum"] = [json.dumps(choice) for choice in item["choices"]]
            parser[key] = fields.Str(**opts)
    return parser


def get_predict_args():
    parser = OrderedDict()
    parser["files"] = fields.Field(required=False, missing=None, type="file", data_key="data",
                                   location="form", description="The image to classify.")
    parser["urls"] = fields.String(required=False, missing=None,
                                   description="URL of the image to classify.")
    return _populate(parser, ["testing"])


def get_train_args():
    return _populate(OrderedDict(), ["base", "general"])


def _decode(args, groups):
    decoded = {}
    for group in groups:
        for key, item in CONF[group].items():
            if key in args:
                value = json.loads(args[key])
                if "choices" in item and value not in item["choices"]:
                    raise ValueError("The selected value for %s is not an available choice."
                                     % key)
                decoded[key] = value
    return decoded


def _status(func):
    @wraps(func)
    def wrap(*args, **kwargs):
        try:
            return {"status": "OK", "predictions": func(*args, **kwargs)}
        except Exception as err:
            return {"status": "error", "message": str(err)}
    return wrap


def _classify(names):
    probs = [round((len(name) % 10) / 10.0, 2) for name in names]
    return ["sick" if p > 0.5 else "healthy" for p in probs], probs


@_status
def predict(**args):
    if args["urls"]:
        conf = _decode(args, ["testing"])
        if not args["urls"].startswith("data:image"):
            raise ValueError("Failed url connection: Check you wrote the url address correctly.")
        return _classify([args["urls"][:20] + conf["timestamp"]])
    if not args["files"]:
        raise Exception("You must provide either 'url' or 'data' in the payload")
    files = [args["files"]]
    conf = _decode(args, ["testing"])
    for f in files:
        if os.path.basename(f.content_type).split("/")[-1] not in ALLOWED:
            raise ValueError("Local image format error: At least one file is not in a "
                             "standard image format (png, jpg, jpeg).")
    names = [f.filename for f in files]
    try:
        return _classify([f.original_filename + conf["ckpt_name"] for f in files])
    finally:
        for name in names:
            os.remove(name)


def train(**args):
    _decode(args, ["base", "general"])
    return {"modelname": "2024-03-01_000000"}


schema = {
    "status": fields.Str(),
    "message": fields.Str(),
    "predictions": fields.Field(),
}

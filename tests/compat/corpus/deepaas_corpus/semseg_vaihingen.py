"""Mirrors the interface of deephdc/semseg_vaihingen (semseg_vaihingen/config.py and
semseg_vaihingen/models/deepaas_api.py).

What it keeps: module-level dicts of fields returned as they are (the same objects every call);
every training option declared as ``fields.Str`` with a default of another type (``missing=False``,
``missing=1``, ``missing=20``) and booleans offered as ``enum=[False, True]`` without a validator;
a required form file ``files``; predict reads the flags as YAML-ish strings, picks its route by
the upload's original file extension (``.hdf5`` with ``vaihingen_`` in the name, or an image) and
fails on anything else; predict and train answer ``{"status": "ok", ...}`` dicts; metadata with
capitalised keys and the training arguments.
"""

import os

from webargs import fields

WEIGHTS = "resnet50_fcn_weights.hdf5"
LABELS = ["Impervious surfaces", "Building", "Low vegetation", "Tree", "Car", "Clutter"]

train_args = {
    "augmentation": fields.Str(missing=False, enum=[False, True], required=False,
                               description="Apply augmentation"),
    "transfer_learning": fields.Str(missing=False, enum=[False, True], required=False,
                                    description="Start from pre-trained weights"),
    "n_gpus": fields.Str(missing=1, required=False, description="GPUs to train on"),
    "n_epochs": fields.Str(missing=20, required=False, description="Epochs to train"),
    "batch_size": fields.Str(missing=16, required=False, description="Samples per batch"),
    "upload_back": fields.Str(missing=False, enum=[False, True], required=False,
                              description="Upload the trained model to the remote storage"),
    "model_weights_save": fields.Str(missing=WEIGHTS, required=False,
                                     description="File name for the weights"),
}

predict_args = {
    "files": fields.Field(description="Data file to perform inference on.", required=True,
                          type="file", location="form"),
    "model_weights_load": fields.Str(missing=WEIGHTS, required=False,
                                     description="File name of the weights to load"),
    "model_retrieve": fields.Str(missing=False, enum=[False, True], required=False,
                                 description="Force the model's update from the remote"),
}


def _flag(value):
    return str(value).strip().lower() in ("true", "yes", "1")


def get_metadata():
    return {"Name": "semseg_vaihingen", "Version": "0.1.0", "Summary": "Semantic segmentation",
            "Home-page": "https://github.com/deephdc/semseg_vaihingen", "Author": "S. H.",
            "Author-email": None, "License": "MIT",
            "Train-Args": {name: str(field.missing) for name, field in train_args.items()}}


def get_train_args():
    return train_args


def get_predict_args():
    return predict_args


def predict(**kwargs):
    upload = kwargs["files"]
    stem, ext = os.path.splitext(upload.original_filename.lower())
    if ext == ".hdf5" and "vaihingen_" in stem:
        data_type = "vaihingen"
    elif ext in (".jpeg", ".jpg", ".png", ".tif", ".tiff"):
        data_type = "any"
    else:
        raise ValueError("Image format error: only .hdf5, .jpg, .png or .tif files are allowed")
    size = os.path.getsize(upload.filename)
    return {"status": "ok", "prediction": {
        "file_name": upload.original_filename, "data_type": data_type,
        "weights": kwargs["model_weights_load"], "retrieved": _flag(kwargs["model_retrieve"]),
        "labels": {label: round((size * (i + 1)) % 97 / 97, 4) for i, label in enumerate(LABELS)}}}


def train(**kwargs):
    params = {"augmentation": _flag(kwargs["augmentation"]), "n_gpus": int(kwargs["n_gpus"]),
              "n_epochs": int(kwargs["n_epochs"]), "batch_size": int(kwargs["batch_size"])}
    return {"status": "ok", "train_args": {k: str(v) for k, v in kwargs.items()},
            "training": params}

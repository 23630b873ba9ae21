"""Mirrors the interface of ai4os-hub/eyeonwater-yolo (eyeonwater_yolo/api.py,
eyeonwater_yolo/schema.py): water-colour classification of citizen-science photos with YOLO.

Interface kept: one required file argument declared with the legacy keywords
``type="file", location="form", description=``; ``schema`` is a ``marshmallow.Schema`` *class*
(``ResponseSchema``) with a ``fields.List(fields.Nested(PredictionSchema))`` and plain strings,
all declared with the legacy ``description=`` keyword. ``predict`` checks
``zipfile.is_zipfile(upload.filename)`` and scores each image member (by suffix), else one
image; an upload that is not an image makes it return ``{"error": ..., "status": "failed"}``,
which the response schema rejects. Training takes ``epoch_num`` (legacy ``missing=``) and
returns ``{"status": "done", "final accuracy": 0.9}``.
"""

import tempfile
import time
import zipfile
from pathlib import Path

from marshmallow import Schema
from marshmallow import fields as ma_fields
from webargs import fields

CLASSES = ["FU1-3", "FU4-6", "FU7-9", "FU10-21"]
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8")


class PredictionSchema(Schema):
    file_name = ma_fields.Str(description="Name of the image file")
    class_name = ma_fields.Str(description="Name of the predicted class")
    confidence = ma_fields.Float(description="Confidence score of the prediction")


class ResponseSchema(Schema):
    predictions = ma_fields.List(ma_fields.Nested(PredictionSchema),
                                 description="Predictions with class and confidence")
    timestamp = ma_fields.Str(description="Timestamp of prediction")
    model_used = ma_fields.Str(description="Model name used for prediction")


schema = ResponseSchema


def get_metadata():
    return {"name": "eyeonwater_yolo", "version": "0.1.0", "license": "MIT",
            "authors": ["MARIS"], "description": "Forel-Ule colour of water photos."}


def get_train_args():
    return {"epoch_num": fields.Int(required=False, missing=10,
                                    description="Total number of training epochs")}


def train(**kwargs):
    for _ in range(kwargs["epoch_num"]):
        time.sleep(0.001)
    return {"status": "done", "final accuracy": 0.9}


def get_predict_args():
    return {"image": fields.Field(required=True, type="file", location="form",
                                  description="Upload an image file or ZIP for prediction.")}


def _classify(path, name):
    data = Path(path).read_bytes()
    if not data.startswith(IMAGE_MAGIC):
        raise OSError("cannot identify image file %r" % name)
    return {"file_name": name, "class_name": CLASSES[len(data) % len(CLASSES)],
            "confidence": round(0.5 + (len(data) % 50) / 100.0, 2)}


def predict(**kwargs):
    upload = kwargs.get("image")
    if not upload:
        return {"error": "No file uploaded", "status": "failed"}
    try:
        predictions = []
        with tempfile.TemporaryDirectory() as tmp:
            if zipfile.is_zipfile(upload.filename):
                with zipfile.ZipFile(upload.filename) as archive:
                    archive.extractall(tmp)
                for path in sorted(Path(tmp).glob("**/*")):
                    if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
                        predictions.append(_classify(path, path.name))
            else:
                # an in-memory image is named image0.jpg by the detector
                predictions.append(_classify(upload.filename, "image0.jpg"))
        return {"predictions": predictions, "timestamp": "2024-05-01T12:00:00",
                "model_used": "best.pt"}
    except OSError as err:
        return {"error": "File processing error: %s" % err, "status": "failed"}

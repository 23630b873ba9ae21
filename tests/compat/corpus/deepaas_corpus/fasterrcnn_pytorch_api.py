"""Mirrors the interface of deephdc/fasterrcnn_pytorch_api (api.py and fields.py).

What it keeps: ordered Schemas built with marshmallow's ``fields``, given as bound fields; a
required form file ``input``; an ``accept`` read from the headers (``location="headers"``) whose
``missing`` is not among its choices; ``enum=[True, False]`` booleans; optional strings without
default; a custom String field parsing and validating a JSON object; predict copies the upload
under its original name and answers a JSON string or a BytesIO; train answers a ``set``; errors
re-raised as ``HTTPException(reason=<exception>)``.
"""

import io
import json
import os
import shutil
import tempfile

from aiohttp.web import HTTPException
from marshmallow import Schema, ValidationError, fields
from webargs import validate

BACKBONES = ["fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_convnext_small",
             "fasterrcnn_mobilenetv3_large_fpn"]
AUGMENTATION = {"Blur": {"p": 0.1, "blur_limit": 3}, "MotionBlur": {"p": 0.1, "blur_limit": 3}}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


class JsonOptionsField(fields.String):  # a JSON object of objects, one per augmentation
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ValidationError("Invalid JSON: `%s`" % err) from err

    def _validate(self, value):
        if not isinstance(value, dict):
            raise ValidationError("Invalid value. Expected a dictionary.")
        for name, options in value.items():
            if not isinstance(options, dict):
                raise ValidationError("Invalid value for %s. Expected a dictionary." % name)
            prob = options.get("p", 0.0)
            if not isinstance(prob, float) or not 0 <= prob <= 1:
                raise ValidationError("Invalid value for 'p' in %s: %s" % (name, prob))


class TrainArgsSchema(Schema):
    class Meta:
        ordered = True

    model = fields.Str(enum=BACKBONES, required=True, description="Name of the model.")
    data_config = fields.Str(required=True, description="Path to the data config file.")
    use_train_aug = fields.Bool(required=False, missing=False, enum=[True, False],
                                description="Use the augmentation options below.")
    aug_training_option = JsonOptionsField(description="Augmentation options (JSON).",
                                           missing=json.dumps(AUGMENTATION))
    device = fields.Bool(required=False, missing=True, enum=[True, False],
                         description="Train on a GPU if present.")
    epochs = fields.Int(required=False, missing=4, description="Epochs to train.")
    batch = fields.Int(required=False, missing=4, description="Batch size.")
    lr = fields.Float(required=False, missing=0.001, description="Learning rate.")
    imgsz = fields.Int(required=False, missing=640, description="Image size.")
    weights = fields.Str(required=False, missing=None, description="Checkpoint to start from.")
    resume_training = fields.Bool(required=False, missing=False, enum=[True, False],
                                  description="Resume from the weights' last step.")
    disable_wandb = fields.Bool(required=False, missing=True, description="Do not use wandb.")
    seed = fields.Int(required=False, missing=0, description="Global seed.")


class PredictArgsSchema(Schema):
    class Meta:
        ordered = True

    input = fields.Field(required=True, type="file", location="form",
                         description="Input an image.")
    timestamp = fields.Str(required=False, description="Timestamp of the model to use.")
    model = fields.Str(required=False, enum=BACKBONES, description="Model to use.")
    threshold = fields.Float(required=False, missing=0.5, description="Detection threshold.")
    imgsz = fields.Int(required=False, missing=640, description="Image size.")
    device = fields.Bool(required=False, missing=True, enum=[True, False],
                         description="Predict on a GPU if present.")
    no_labels = fields.Bool(required=False, missing=False, enum=[True, False],
                            description="Draw boxes without labels.")
    square_img = fields.Bool(required=False, missing=True, enum=[True, False],
                             description="Resize to a square.")
    accept = fields.Str(missing="application/pdf", location="headers",
                        validate=validate.OneOf(["image/png", "application/json"]),
                        description="A png with the boxes drawn, or the boxes as JSON.")


def get_metadata():
    return {"authors": "F. Author", "description": "Object detection with Faster R-CNN",
            "license": "MIT", "version": "0.1.0", "checkpoints_local": ["2023-05-10_121810"],
            "checkpoints_remote": []}


def get_train_args():
    return TrainArgsSchema().fields


def get_predict_args():
    return PredictArgsSchema().fields


def train(**args):
    try:
        if args.get("resume_training", False) and not args.get("weights"):
            raise ValueError("Weights argument is missing for resumed training")
        return {"model was saved in models/%s_%d" % (args["model"], args["epochs"])}
    except Exception as err:
        raise HTTPException(reason=err) from err


def predict(**args):
    try:
        upload = args["input"]
        with tempfile.TemporaryDirectory() as tmpdir:
            copy = os.path.join(tmpdir, upload.original_filename)
            shutil.copy(upload.filename, copy)
            size = os.path.getsize(copy)
        boxes = [{"class": "fish", "confidence": round(args["threshold"] + 0.1, 3),
                  "box": [0, 0, args["imgsz"] // 10, size]}]
        if args["accept"] == "application/json":
            return json.dumps({"image": upload.original_filename, "model": args.get("model"),
                               "timestamp": args.get("timestamp"), "detections": boxes})
        return io.BytesIO(PNG)
    except Exception as err:
        raise HTTPException(reason=err) from err

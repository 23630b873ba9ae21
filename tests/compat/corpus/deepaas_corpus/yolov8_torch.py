"""Mirrors the interface of ai4os-hub/ai4os-yolov8-torch (api/__init__.py, api/schemas.py,
api/responses.py, api/config.py): object detection with YOLOv8.

Interface kept: ordered ``marshmallow.Schema`` classes returned as ``Schema().fields``; the file
field mixes the legacy keywords ``type="file", location="form"`` with ``metadata={...}``;
``enum=[...]`` passed as a keyword; a plain ``fields.Field`` with ``load_default=None``
(``classes``); a required header-located ``accept`` with four media types (JSON, PDF, PNG, MP4)
from the parser table. ``predict(**args)`` copies the upload under its ``original_filename`` and
answers a list of detections (det/seg), a dict (cls), a ``BytesIO`` (pdf, png) or an open file
(mp4). Training arguments are a subset of the public ~50 (same kinds: enums as keywords,
``allow_none``, ``required``); ``train`` returns a *set* holding one message, as the public
module does (a set literal).
"""

import io
import os
import shutil
import sys
import tempfile

import marshmallow
from webargs import fields, validate

MODEL_LIST = ["yolov8n.yaml", "yolov8n.pt", "yolov8s.yaml", "yolov8s.pt"]
CONTENT_TYPES = ["application/json", "application/pdf", "image/png", "video/mp4"]


class PredArgsSchema(marshmallow.Schema):
    class Meta:
        ordered = True

    input = fields.Field(required=True, type="file", location="form",
                         metadata={"description": "An image or a video."})
    model = fields.Str(metadata={"description": "Timestamp of a trained model."},
                       load_default=None)
    task_type = fields.Str(metadata={"description": "det, seg, cls or pose."},
                           load_default="det", enum=["det", "seg", "cls", "pose"])
    conf = fields.Float(metadata={"description": "Confidence threshold."}, load_default=0.25)
    iou = fields.Float(metadata={"description": "IoU threshold for NMS."}, load_default=0.5)
    show_labels = fields.Boolean(metadata={"description": "Labels in plots."}, load_default=True)
    show_conf = fields.Boolean(metadata={"description": "Scores in plots."}, load_default=True)
    augment = fields.Boolean(metadata={"description": "Augment sources."}, load_default=False)
    classes = fields.Field(metadata={"description": "Class filter."}, load_default=None)
    boxes = fields.Boolean(metadata={"description": "Boxes in plots."}, load_default=True)
    accept = fields.String(metadata={"description": "Response format.", "location": "headers"},
                           required=True, validate=validate.OneOf(CONTENT_TYPES))


class TrainArgsSchema(marshmallow.Schema):
    class Meta:
        ordered = True

    task_type = fields.Str(metadata={"description": "det, seg or cls."}, load_default="det",
                           enum=["det", "seg", "cls"])
    model = fields.Str(metadata={"description": "Model to train."}, enum=MODEL_LIST,
                       required=True)
    data = fields.Str(metadata={"description": "Path to data.yaml."}, allow_none=True)
    epochs = fields.Int(metadata={"description": "Epochs."}, load_default=100)
    batch = fields.Int(metadata={"description": "Batch size."}, load_default=2)
    weights = fields.Str(metadata={"description": "Checkpoint to start from."},
                         load_default=None)
    resume = fields.Bool(metadata={"description": "Resume."}, load_default=True,
                         enum=[True, False])
    device = fields.Str(metadata={"description": "Device."}, load_default="cuda:0")
    optimizer = fields.Str(metadata={"description": "Optimizer."}, load_default="auto",
                           enum=["SGD", "Adam", "AdamW", "auto"])
    lr0 = fields.Float(metadata={"description": "Initial learning rate."}, load_default=0.01)
    disable_wandb = fields.Bool(metadata={"description": "No wandb."}, load_default=True,
                                enum=[True, False])


def _inject(kind, schema):
    def decorate(func):
        setattr(sys.modules[func.__module__], "get_%s_args" % kind, lambda: schema().fields)
        return func
    return decorate


def _model_for(name, task_type):
    return name.replace(".", "-%s." % task_type) if task_type != "det" else name


def get_metadata():
    return {"author": ["YOLO team"], "author-email": {"YOLO team": "yolo@example.org"},
            "description": "YOLOv8 detection.", "license": "AGPL-3.0", "version": "0.1.0",
            "models_local": ["20240101_000000"], "models_remote": [],
            "datasets": {"raw": ["coco8"]}}


@_inject("predict", PredArgsSchema)
def predict(**args):
    if args["model"] is None:
        args["model"] = _model_for("yolov8n.pt", args["task_type"])
    with tempfile.TemporaryDirectory() as tmpdir:
        upload = args["input"]
        copied = os.path.join(tmpdir, upload.original_filename)
        shutil.copy(upload.filename, copied)
        size = os.path.getsize(copied)
    accept = args["accept"]
    if accept == "application/json":
        if args["task_type"] == "cls":
            return {"file_name": upload.original_filename,
                    "top5_prediction": {"fish": 0.75, "coral": 0.25}}
        return [{"name": "fish", "class": 0, "confidence": args["conf"],
                 "box": {"x1": 0, "y1": 0, "x2": size, "y2": size}, "model": args["model"],
                 "classes": args["classes"]}]
    if accept in ("application/pdf", "image/png"):
        buffer = io.BytesIO(b"%s:%d" % (accept.encode(), size))
        buffer.name = "output.pdf"
        return buffer
    path = os.path.join(tempfile.mkdtemp(), "output.mp4")
    with open(path, "wb") as handle:
        handle.write(b"\x00\x00\x00\x18ftypmp42" + bytes(size % 7))
    return open(path, "rb")


@_inject("train", TrainArgsSchema)
def train(**args):
    args["model"] = _model_for(args["model"], args["task_type"])
    return {"The model was trained successfully and was saved to: yolov8_api/models/"
            + args["model"]}

"""Mirrors the interface of ai4os-hub/thermal-anomaly-segmenter (api/__init__.py,
api/schemas.py, api/responses.py): semantic segmentation of thermal anomalies.

Interface kept: ordered ``marshmallow.Schema`` classes handed over as ``Schema().fields``; a
``Directory`` string field that overrides ``deserialize`` itself (so a missing value is an error
despite its ``load_default``, and an existing directory is required); a ``ForceTrue`` boolean
whose ``load_default`` is False; ``fields.List(fields.String())`` with
``validate.ContainsOnly``; ``OneOf`` string choices with a default; integers with
``Range(min=1)``; an optional header-located ``accept`` (JSON or PNG) with a default.
``predict(accept=..., **options)`` requires an ``original_filename`` ending in ``.npy.lz4``
(a ``ValueError`` otherwise) and answers a dict, or the result PNG as an open file.
``train`` returns a dict summary.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import marshmallow
from webargs import ValidationError, fields, validate

MODEL_VARIANTS = {"SMP_UnetPlusPlus": "smp", "SegFormer_B0": "segformer"}
LOSS_FUNCTIONS = {"CrossEntropyLoss": None, "DiceLoss": None}
TRAIN_PHASES = ["pre_train_frozen", "pre_train_unfrozen", "fine_tune"]
CONTENT_TYPES = {"application/json": None, "image/png": None}


class Directory(fields.String):
    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is marshmallow.missing:
            raise ValidationError(f"No {attr} was defined, but this parameter is required!")
        if not Path(value).is_dir():
            raise ValidationError(f"Provided `{value}` not an existing directory!")
        return value


class ForceTrue(fields.Boolean):
    def _deserialize(self, value, attr, data, **kwargs):
        if not value:
            raise ValidationError(f"{attr} must be True!")
        return value


class PredArgsSchema(marshmallow.Schema):
    class Meta:
        ordered = True

    input_file = fields.Field(required=True, metadata={
        "type": "file", "location": "form", "description": "A 3-channel .npy.lz4 file."})
    model_dir = Directory(
        metadata={"description": "Model directory.\n- local:\n['models/default']\n- remote:\n[]"},
        load_default="models/default")
    threshold = fields.Float(metadata={"description": "Prediction threshold."},
                             validate=validate.Range(min=0.0, max=1.0), load_default=0.5)
    accept = fields.String(metadata={"description": "Response format.", "location": "headers"},
                           validate=validate.OneOf(list(CONTENT_TYPES)),
                           load_default="application/json")


class TrainArgsSchema(marshmallow.Schema):
    class Meta:
        ordered = True

    model_type = fields.String(metadata={"description": "Segmentation model."},
                               validate=validate.OneOf(sorted(MODEL_VARIANTS)),
                               load_default=sorted(MODEL_VARIANTS)[0])
    train_phases = fields.List(fields.String(), metadata={"description": "Training phases."},
                               validate=validate.ContainsOnly(TRAIN_PHASES),
                               load_default=list(TRAIN_PHASES))
    dataset_path = Directory(metadata={"description": "Dataset directory."},
                             load_default="data/default")
    data_augmentation = fields.Boolean(metadata={"description": "Augment."}, load_default=True)
    loss_fn = fields.String(metadata={"description": "Loss function."},
                            validate=validate.OneOf(sorted(LOSS_FUNCTIONS)),
                            load_default=list(LOSS_FUNCTIONS)[0])
    batch_size = fields.Integer(metadata={"description": "Batch size."},
                                validate=validate.Range(min=1), load_default=16)
    worker_count = fields.Integer(metadata={"description": "Workers."},
                                  validate=validate.Range(min=1), load_default=2)
    seed = fields.Integer(metadata={"description": "Seed."}, validate=validate.Range(min=1),
                          load_default=10)
    gpu = ForceTrue(metadata={"description": "Is a GPU available?"}, load_default=False)
    mlflow = fields.Boolean(metadata={"description": "Track with MLflow."}, load_default=True)


def _inject(kind, schema):
    def decorate(func):
        setattr(sys.modules[func.__module__], "get_%s_args" % kind, lambda: schema().fields)
        return func
    return decorate


def get_metadata():
    return {"name": "thermal-anomaly-segmenter", "version": "0.1.0", "license": "MIT",
            "summary": "Thermal anomaly segmentation.", "datasets_local": [],
            "datasets_remote": [], "models_local": ["models/default"], "models_remote": []}


@_inject("predict", PredArgsSchema)
def predict(accept="application/json", **options):
    name = options["input_file"].original_filename
    if not name.endswith(".npy.lz4"):
        raise ValueError(f"Selected input '{name}' is not a .npy.lz4!")
    workdir = tempfile.mkdtemp()
    copied = Path(workdir, name)
    shutil.copy(options["input_file"].filename, copied)
    share = round(os.path.getsize(copied) / 100.0, 3)
    result = {"input": name, "threshold": options["threshold"], "anomaly_share": share}
    if accept == "image/png":
        png = Path(workdir, "prediction.png")
        png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(int(share * 100)))
        return open(png, "rb")
    shutil.rmtree(workdir)
    return result


@_inject("train", TrainArgsSchema)
def train(**options):
    return {"model_type": options["model_type"], "phases": options["train_phases"],
            "best_iou": 0.42}

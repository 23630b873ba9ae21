"""Mirrors the interface of ai4os/ai4os-ai4life-loader (api/__init__.py, api/schemas.py,
api/responses.py, api/utils.py): serves one BioImage Model Zoo model chosen at deployment.

Interface kept: an ordered ``marshmallow.Schema`` given as ``Schema().fields``; ``model_name``
required with ``validate.OneOf`` over the loaded model names; a required form-located file;
the SAM prompt arguments (custom ``fields.Field`` subclasses that parse JSON text, a
``_serialize`` override, optional form-located files) all carry ``dump_only=hide_input``, which
is true unless the deployed model is a SAM model (here it is not, so they are hidden and never
loaded); ``accept`` required, located in the headers, choices JSON and PNG. ``predict(model_name,
accept=..., **options)`` answers a dict of output arrays (as lists) or a PNG ``BytesIO``; the
parser table has no entry for ``*/*``. No training.
"""

import io
import json
import os
import sys

import marshmallow
import numpy as np
from webargs import ValidationError, fields, validate

MODELS = {"affable-shark": {"id": "affable-shark", "nickname_icon": "\U0001f988",
                            "outputs": ["output0"]}}
MODEL_NAMES = [m["id"] + " " + m["nickname_icon"] for m in MODELS.values()]
HIDE_INPUT = not any("sam" in name.lower() for name in MODEL_NAMES)


class BoxPromptField(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            value = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError as err:
            raise ValidationError(f"Invalid JSON: `{err}`") from err
        if not isinstance(value, list) or len(value) != 1:
            raise ValidationError("The input must be a list with one batch dimension.")
        return value


class PointPromptsField(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ValidationError(f"Invalid JSON: `{err}`") from err


class PointLabelsField(fields.Field):
    def _serialize(self, value, attr, obj, **kwargs):
        return {"type": "int64", "shape": [1, 1, None]}

    def _deserialize(self, value, attr=None, data=None, **kwargs):
        value = json.loads(value) if isinstance(value, str) else value
        if not isinstance(value, list):
            raise ValidationError("Point labels must be a list.")
        return value


class PredArgsSchema(marshmallow.Schema):
    class Meta:
        ordered = True

    model_name = fields.String(
        metadata={"description": "The model '**%s**' is loaded." % MODEL_NAMES[0]},
        validate=validate.OneOf(MODEL_NAMES), required=True)
    input_file = fields.Field(metadata={"description": "An .npy or image file.",
                                        "type": "file", "location": "form"}, required=True)
    box_prompts = BoxPromptField(required=False, load_default=None, dump_only=HIDE_INPUT,
                                 metadata={"description": "Boxes [[x0, y0, x1, y1], ...]."})
    mask_prompts = fields.Field(metadata={"description": "A mask hint.", "type": "file",
                                          "location": "form"},
                                required=False, dump_only=HIDE_INPUT)
    embeddings = fields.Field(metadata={"description": "Image embeddings.", "type": "file",
                                        "location": "form"},
                              dump_only=HIDE_INPUT, required=False)
    point_prompts = PointPromptsField(metadata={"description": "Point prompts."},
                                      dump_only=HIDE_INPUT)
    point_labels = PointLabelsField(metadata={"description": "Point labels."}, required=False,
                                    dump_only=HIDE_INPUT)
    accept = fields.String(metadata={"description": "Response format.", "location": "headers"},
                           required=True,
                           validate=validate.OneOf(["application/json", "image/png"]))


def _inject(schema):
    def decorate(func):
        sys.modules[func.__module__].get_predict_args = lambda: schema().fields
        return func
    return decorate


def _json(result, output_ids):
    return {i: np.squeeze(result[i]).tolist() for i in output_ids}


def _png(result, output_ids):
    return io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(len(_json(result, output_ids)["output0"])))


CONTENT_TYPES = {"application/json": _json, "image/png": _png}


def get_metadata():
    return {"author": ["AI4OS"], "author-email": {"AI4OS": "ai4os@example.org"},
            "description": "BioImage Model Zoo loader.", "license": "MIT", "version": "0.1.0",
            "datasets": [], "models": MODELS}


def warm():
    pass


@_inject(PredArgsSchema)
def predict(model_name, accept="application/json", **options):
    size = os.path.getsize(options["input_file"].filename)
    result = {"output0": np.arange(size % 5 + 2, dtype=np.float32).reshape(1, -1) / 2}
    return CONTENT_TYPES[accept](result, MODELS[model_name.split(" ")[0]]["outputs"])

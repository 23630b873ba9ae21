"""Mirrors the interface of ai4os-hub/demo-advanced (api/__init__.py, api/schemas.py,
api/parsers.py, api/responses.py, api/utils.py): the advanced AI4OS example module.

Interface kept: ordered ``marshmallow.Schema`` classes turned into ``Schema().fields`` by
decorators that inject ``get_predict_args`` / ``get_train_args``; a form-located file field given
through ``metadata``; ``version`` is a *string* field validated with ``validate.Range(min=1)``
(as in the public module); optional integers with ``Range``; a required ``accept`` located in the
headers, for predict *and* train, whose choices come from one shared list; a custom
``fields.String`` subclass (``Dataset``) that checks the name against the known datasets and
returns a path. ``predict`` returns a dict, or a ``BytesIO`` named ``output.pdf`` for
``application/pdf``; ``train`` returns a dict of run information.
"""

import io
import os
import sys

import marshmallow
from webargs import ValidationError, fields, validate

DATASETS = ["mnist", "fashion"]
CONTENT_TYPES = ["application/json", "application/pdf"]


class Dataset(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        if value not in DATASETS:
            raise ValidationError(f"Dataset `{value}` not found.")
        return "data/" + value


class PredArgsSchema(marshmallow.Schema):
    class Meta:
        ordered = True

    input_file = fields.Field(
        metadata={"description": "NPY file to predict on.", "type": "file", "location": "form"},
        required=True,
    )
    model_name = fields.String(metadata={"description": "Registered model name."}, required=True)
    version = fields.String(metadata={"description": "Model version."}, required=False,
                            validate=validate.Range(min=1))
    batch_size = fields.Integer(metadata={"description": "Samples per batch."}, required=False,
                                validate=validate.Range(min=1))
    steps = fields.Integer(metadata={"description": "Prediction steps."}, required=False,
                           validate=validate.Range(min=1))
    accept = fields.String(metadata={"description": "Response format.", "location": "headers"},
                           required=True, validate=validate.OneOf(CONTENT_TYPES))


class TrainArgsSchema(marshmallow.Schema):
    class Meta:
        ordered = True

    input_file = Dataset(metadata={"description": "Dataset name."}, required=True)
    model_name = fields.String(metadata={"description": "Registered model name."}, required=True)
    version = fields.String(metadata={"description": "Model version."}, required=False)
    epochs = fields.Integer(metadata={"description": "Epochs."}, required=False, load_default=1,
                            validate=validate.Range(min=1))
    initial_epoch = fields.Integer(metadata={"description": "First epoch."}, required=False,
                                   load_default=0, validate=validate.Range(min=0))
    steps_per_epoch = fields.Integer(metadata={"description": "Steps per epoch."},
                                     required=False, validate=validate.Range(min=0))
    shuffle = fields.Boolean(metadata={"description": "Shuffle."}, required=False,
                             load_default=True)
    validation_split = fields.Float(metadata={"description": "Validation fraction."},
                                    required=False, load_default=0.0,
                                    validate=validate.Range(min=0.0, max=1.0))
    validation_steps = fields.Integer(metadata={"description": "Validation steps."},
                                      required=False, validate=validate.Range(min=0))
    validation_batch_size = fields.Integer(metadata={"description": "Validation batch."},
                                           required=False, validate=validate.Range(min=0))
    validation_freq = fields.Integer(metadata={"description": "Validation frequency."},
                                     required=False, load_default=1,
                                     validate=validate.Range(min=1))
    accept = fields.String(metadata={"description": "Response format.", "location": "headers"},
                           required=True, validate=validate.OneOf(CONTENT_TYPES))


def _inject(kind, schema):
    def decorate(func):
        setattr(sys.modules[func.__module__], "get_%s_args" % kind, lambda: schema().fields)
        return func
    return decorate


def _render(result, accept, **options):
    if accept == "application/pdf":
        buffer = io.BytesIO(b"%PDF-1.4\n% " + repr({"input": options, "result": result}).encode())
        buffer.name = "output.pdf"
        return buffer
    return result


def get_metadata():
    return {"author": ["AI4OS"], "author-email": {"AI4OS": "ai4os@example.org"},
            "description": "Advanced demo module.", "license": "MIT", "version": "0.2.0",
            "datasets": DATASETS, "models": ["digits"]}


def warm():
    pass


@_inject("predict", PredArgsSchema)
def predict(model_name, input_file, accept="application/json", **options):
    size = os.path.getsize(input_file.filename)
    result = {"model": model_name, "bytes": size, "options": sorted(options),
              "digits": [size % 10, (size // 10) % 10]}
    return _render(result, accept, **options)


@_inject("train", TrainArgsSchema)
def train(model_name, input_file, accept="application/json", **options):
    result = {"run_id": "run-" + model_name, "dataset": input_file,
              "epochs": options["epochs"], "metrics": {"accuracy": 0.5}}
    return _render(result, accept, **options)

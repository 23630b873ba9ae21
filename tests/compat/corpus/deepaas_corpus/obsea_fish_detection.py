"""Mirrors the interface of ai4os-hub/obsea-fish-detection (api/__init__.py, api/schemas.py,
api/responses.py, api/utils.py): a data-drift detector for underwater camera images.

Interface kept: arguments declared on a ``marshmallow.Schema`` (ordered) and handed to DEEPaaS as
``PredArgsSchema().fields`` by a decorator that injects ``get_predict_args`` into the module; the
image is a ``fields.Field`` whose ``metadata`` carries ``type="file"`` and ``location="form"``;
``accept`` is required and located in the headers (``metadata={"location": "headers"}``) with
the choices taken from the response-parser table; two floats with ``load_default`` and
``validate.Range(min=0.0)``. ``predict(input_file, accept=..., **options)`` reads
``input_file.filename`` and returns a dict whose numpy values are turned into Python ones by the
JSON parser. No training is provided.
"""

import os
import sys

import marshmallow
import numpy as np
from webargs import fields, validate

TAGS = ["data-drift", "DDM", "example_service", "streaming"]
DATA_VERSION = "v1-tiny"


def _to_python(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, dict):
        return {k: _to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_python(v) for v in value]
    return value


CONTENT_TYPES = {"application/json": _to_python}


class PredArgsSchema(marshmallow.Schema):
    class Meta:
        ordered = True

    input_file = fields.Field(
        metadata={"description": "Camera image to check for drift.", "type": "file",
                  "location": "form"},
        required=True,
    )
    accept = fields.String(
        metadata={"description": "Response media type.", "location": "headers"},
        required=True,
        validate=validate.OneOf(list(CONTENT_TYPES)),
    )
    warning_distance = fields.Float(
        metadata={"description": "Distance above which a warning is raised."},
        load_default=0.100,
        validate=validate.Range(min=0.0),
    )
    drift_distance = fields.Float(
        metadata={"description": "Distance above which drift is reported."},
        load_default=0.125,
        validate=validate.Range(min=0.0),
    )


def _inject_args(schema):
    def decorate(func):
        sys.modules[func.__module__].get_predict_args = lambda: schema().fields
        return func
    return decorate


def get_metadata():
    return {"author": ["Obsea Team"], "author-email": {"Obsea Team": "obsea@example.org"},
            "description": "Drift detection on OBSEA camera images.", "license": "MIT",
            "version": "0.1.0"}


def warm():
    pass


@_inject_args(PredArgsSchema)
def predict(input_file, accept="application/json", **options):
    distance = np.float64(os.path.getsize(input_file.filename)) / 1000.0
    warning = distance > options["warning_distance"]
    detected = distance > options["drift_distance"]
    parameters = {"distance": distance, "warning": warning,
                  "warning_distance": options["warning_distance"],
                  "drift_distance": options["drift_distance"], "link": None}
    return CONTENT_TYPES[accept]({"drift": detected, "parameters": parameters,
                                  "tags": TAGS, "version": DATA_VERSION})

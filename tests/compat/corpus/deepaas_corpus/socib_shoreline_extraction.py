"""Mirrors the interface of ai4os-hub/socib-shoreline-extraction
(socib_shoreline_extraction/api.py, socib_shoreline_extraction/schemas.py): shoreline extraction
from beach camera images.

Interface kept: ``get_predict_args()`` returns a dict of ``webargs.fields``; the image is a
required ``fields.Raw`` with ``metadata={"type": "file", "location": "form", ...}``; booleans
with ``load_default``; ``crop_roi`` is a ``fields.List(fields.Int())`` with a list default and
``validate.Length(equal=4)``; ``accept`` is an optional query field (no location) with the
choices ``application/json`` and the wildcard ``image/*``. ``predict`` returns a string message
on bad crop coordinates, a ``BytesIO`` PNG for ``image/*``, a list of coordinates for JSON and a
dict for any other accept value. No training.
"""

import io
import os

from webargs import fields, validate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def get_metadata():
    return {"name": "socib-shoreline-extraction", "version": "0.1.0",
            "summary": "Shoreline extraction from coastal video-monitoring images.",
            "authors": ["SOCIB"], "license": "MIT"}


def get_predict_args():
    return {
        "file": fields.Raw(required=True, metadata={
            "type": "file", "location": "form", "description": "A .jpg or .png image."}),
        "rectified": fields.Bool(required=False, load_default=True, metadata={
            "description": "Rectified (top-down) image, else oblique."}),
        "boolean_crop_roi": fields.Bool(required=False, load_default=False, metadata={
            "description": "Crop to the region of interest first."}),
        "crop_roi": fields.List(fields.Int(), required=False,
                                load_default=[640, 480, 1000, 2000],
                                validate=validate.Length(equal=4),
                                metadata={"description": "Region of interest [x1, y1, x2, y2]."}),
        "accept": fields.Str(required=False, load_default="application/json",
                             validate=validate.OneOf(["application/json", "image/*"]),
                             metadata={"description": "Response format."}),
    }


def predict(**kwargs):
    image = kwargs.get("file")
    if image is None:
        return "No image file provided."
    crop = kwargs.get("crop_roi") if kwargs.get("boolean_crop_roi", False) else None
    if crop is not None and (crop[0] >= crop[2] or crop[1] >= crop[3]):
        return "Invalid crop_roi coordinates: ensure that x2 > x1 and y2 > y1."
    rectified = kwargs.get("rectified", True)
    size = os.path.getsize(image.filename)
    if kwargs.get("accept") == "image/*":
        return io.BytesIO(PNG_MAGIC + bytes(size % 13))
    if kwargs.get("accept") == "application/json":
        classes = 3 if rectified else 2
        x0 = crop[0] if crop else 0
        return [[x0 + i, size + i * classes] for i in range(3)]
    return {"message": "No valid accept type found."}

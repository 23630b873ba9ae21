"""Mirrors the interface of ai4os-hub/zooprocess-multiple-separator
(zooprocess_multiple_separator/api.py): draws the lines that separate touching plankton
organisms in an image.

Interface kept: ``get_predict_args()`` returns a dict with a required ``fields.Field`` whose
``metadata`` gives ``type="file"`` and ``location="form"``, a float and an integer with
``load_default``; ``predict`` branches on ``content_type == "application/zip"`` and returns a
*list* of dicts per image whose values are *tuples* (separation coordinates as a tuple of two
lists, the image shape as a tuple) and a float score. ``get_train_args()`` returns ``{}`` and
no ``train`` is defined (so only predict works).
"""

import os
import tempfile
import zipfile

from webargs import fields


def get_metadata():
    return {"name": "zooprocess_multiple_separator", "author": ["EcoTaxa"],
            "author-email": {"EcoTaxa": "ecotaxa@example.org"},
            "description": "Separates multiple organisms in one image.", "license": "MIT",
            "version": "0.1.0"}


def warm():
    pass


def get_predict_args():
    return {
        "images": fields.Field(metadata={
            "type": "file", "location": "form",
            "description": "A zip of images (at its root) or one image."}, required=True),
        "min_mask_score": fields.Float(metadata={
            "description": "Minimum confidence for a mask. [Default: 0.9]"},
            required=False, load_default=0.9),
        "bottom_crop": fields.Int(metadata={
            "description": "Pixels cropped at the bottom (scale bar). [Default: 31px]"},
            required=False, load_default=31),
    }


def predict(**kwargs):
    data = kwargs["images"]
    if data.content_type == "application/zip":
        workdir = tempfile.mkdtemp()
        with zipfile.ZipFile(data.filename, "r") as archive:
            archive.extractall(workdir)
        names = [n for n in sorted(os.listdir(workdir)) if n.endswith(("jpg", "png", "jpeg"))]
        paths = [os.path.join(workdir, n) for n in names]
    else:
        paths, names = [data.filename], [data.original_filename]
    results = []
    for name, path in zip(names, paths, strict=True):
        size = os.path.getsize(path)
        height = max(size - kwargs["bottom_crop"], 1)
        rows = [r for r in range(0, height, 40)]
        results.append({
            "name": name,
            "separation_coordinates": (rows, [r % 7 for r in rows]),
            "image_shape": (height, 64),
            "score": round(max(kwargs["min_mask_score"], 0.0) * 0.5, 3),
        })
    return results


def get_train_args():
    return {}

"""Mirrors the interface of ai4os-hub/zooprocess-multiple-classifier
(zooprocess_multiple_classifier/api.py, zooprocess_multiple_classifier/misc.py): scores plankton
images for containing several organisms.

Interface kept: ``get_predict_args()`` returns a dict with a required ``fields.Field`` whose
``metadata`` says ``type="file"``, ``location="form"``, and an integer with ``load_default``;
``predict`` (wrapped to turn errors into ``HTTPBadRequest``) branches on the upload's
``content_type``: ``application/zip`` is extracted and its image members scored, anything else
is one image named by ``original_filename``; it returns ``{"names": [...], "scores": [...]}``,
which the dict ``schema`` of two ``fields.List`` with ``required`` and ``metadata`` validates.
Training arguments use the legacy ``missing=`` / ``description=`` keywords; ``train`` returns a
plain string.
"""

import os
import shutil
import tempfile
from functools import wraps
from zipfile import ZipFile

from aiohttp.web import HTTPBadRequest
from webargs import fields


def _catch_error(func):
    @wraps(func)
    def wrap(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as err:
            raise HTTPBadRequest(reason=str(err)) from err
    return wrap


@_catch_error
def get_metadata():
    return {"name": "zooprocess_multiple_classifier", "author": ["EcoTaxa"],
            "author-email": {"EcoTaxa": "ecotaxa@example.org"},
            "description": "Detects images holding multiple objects.", "license": "MIT",
            "version": "0.1.0"}


def warm():
    pass


def get_predict_args():
    return {
        "images": fields.Field(metadata={
            "type": "file", "location": "form",
            "description": "A zip of images (at its root) or one image."}, required=True),
        "bottom_crop": fields.Int(metadata={
            "description": "Pixels cropped at the bottom (scale bar). [Default: 31px]"},
            required=False, load_default=31),
    }


def _score(path, bottom_crop):
    return round(((os.path.getsize(path) + bottom_crop) % 89) / 89.0, 6)


@_catch_error
def predict(**kwargs):
    data = kwargs["images"]
    workdir = None
    if data.content_type == "application/zip":
        workdir = tempfile.mkdtemp()
        with ZipFile(data.filename, "r") as archive:
            archive.extractall(workdir)
        names = [n for n in sorted(os.listdir(workdir)) if n.endswith(("jpg", "png", "jpeg"))]
        paths = [os.path.join(workdir, n) for n in names]
    else:
        paths, names = [data.filename], [data.original_filename]
    scores = [_score(p, kwargs["bottom_crop"]) for p in paths]
    if workdir:
        shutil.rmtree(workdir)
    return {"names": names, "scores": scores}


schema = {
    "names": fields.List(fields.Str(), required=True,
                         metadata={"description": "Names of the input images."}),
    "scores": fields.List(fields.Float(), required=True,
                          metadata={"description": "Probability of being a multiple, in [0,1]."}),
}


def get_train_args():
    return {"epoch_num": fields.Int(required=False, missing=10,
                                    description="Total number of training epochs")}


def train(**kwargs):
    return "Training function completed successfully after %d epochs." % kwargs["epoch_num"]

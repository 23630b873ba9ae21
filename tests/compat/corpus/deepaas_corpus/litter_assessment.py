"""Mirrors the interface of ai4os-hub/litter-assessment (litter_assessment_service/api.py,
litter_assessment_service/fields.py): detection and quantification of beach litter in drone
images.

Interface kept: a ``marshmallow.Schema`` in a module named ``fields`` whose ``.fields`` are
returned; legacy keywords mixed with ``metadata=``: ``type="file", location="form"``,
``description=`` next to ``metadata={"enum": [...]}``; ``accept`` declared with the legacy
``location="headers"`` keyword and a single choice, ``application/zip``, and no default;
``output_type`` whose enum says ``Nextcloud`` while the code compares with ``nextcloud`` (so
that choice answers nothing). ``predict`` reads ``content_type`` (zip archives are extracted;
``application/octet-stream`` uploads are read as bytes from the *path*, which fails, as in the
public module) and returns an open zip or JPEG file, or None. ``get_train_args(**kwargs)``
returns ``{}`` and there is no ``train``.
"""

import os
import shutil
import tempfile
from zipfile import ZipFile

from marshmallow import Schema, fields
from webargs import validate


class PredictArgsSchema(Schema):
    class Meta:
        ordered = True

    files = fields.Field(required=True, type="file", location="form",
                         description="The image to analyse.")
    PLD_plot = fields.Bool(required=False, load_default=True,
                           description="Whether a detection plot should be provided.",
                           metadata={"enum": [True, False]})
    PLQ_plot = fields.Bool(required=False, load_default=True,
                           description="Whether a quantification plot should be provided.",
                           metadata={"enum": [True, False]})
    accept = fields.Str(location="headers", validate=validate.OneOf(["application/zip"]),
                        description="Choose zip if you want PLD and PLQ")
    output_type = fields.Str(load_default="Download",
                             metadata={"enum": ["Download", "Nextcloud"]},
                             description="How the output is provided.")


def get_metadata():
    return {"name": "litter_assessment_service", "author": ["iMagine UC1"],
            "author-email": {"iMagine UC1": "uc1@example.org"},
            "description": "Plastic litter detection and quantification.",
            "license": "MIT", "version": "0.1.0"}


def get_predict_args():
    return PredictArgsSchema().fields


def get_train_args(**kwargs):
    return {}


def _inputs(data):
    if data.content_type == "application/zip":
        workdir = tempfile.mkdtemp()
        with ZipFile(data.filename, "r") as archive:
            archive.extractall(workdir)
        names = sorted(os.listdir(workdir))
        return names, [os.path.join(workdir, n) for n in names]
    return [data.original_filename], [data.filename]


def _plot(path, kind, output_path):
    target = "%s_%s.jpg" % (output_path, kind)
    with open(path, "rb") as source, open(target, "wb") as out:
        out.write(b"\xff\xd8" + kind.encode() + source.read()[:8])
    return target


def predict(**kwargs):
    data = kwargs["files"]
    names, paths = _inputs(data)
    tmp_dir = tempfile.mkdtemp()
    for name, path in zip(names, paths, strict=True):
        output_path = os.path.join(tmp_dir, name[:-4])
        if data.content_type == "application/octet-stream":
            path = bytes(path)
        if kwargs["PLD_plot"] and kwargs["PLQ_plot"]:
            _plot(path, "PLD", output_path)
            _plot(path, "PLQ", output_path)
            if kwargs["output_type"] == "Download":
                shutil.make_archive(tmp_dir, format="zip", root_dir=tmp_dir)
                return open(tmp_dir + ".zip", "rb")
        elif kwargs["PLD_plot"] or kwargs["PLQ_plot"]:
            kind = "PLD" if kwargs["PLD_plot"] else "PLQ"
            plot = _plot(path, kind, output_path)
            if kwargs["output_type"] == "Download":
                return open(plot, "rb")
    return None

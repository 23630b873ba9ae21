"""Mirrors the interface of deephdc/UC-adnaneds-unet (unet/api.py).

What it keeps: two optional form files, one with a hyphenated name and one (``data``) with
``missing=None``; an ``accept`` without default whose choices are ``image/*`` (a wildcard answered
verbatim as the media type) and ``application/zip``; predict reads the UploadedFile's
``filename``, ``name``, ``content_type`` and ``original_filename``, answers an open PNG file or an
open zip it builds (the input copied under its original name plus a text file), and answers
``None`` for any other accept; errors re-raised as ``HTTPBadRequest(reason=<exception>)`` (a
TypeError on current aiohttp); no training arguments, and train calls predict with what it gets;
metadata with a single key.
"""

import os
import shutil
import tempfile
import zipfile
from functools import wraps

from aiohttp.web import HTTPBadRequest
from webargs import fields, validate

MASK = b"\x89PNG\r\n\x1a\n" + b"\x03" * 30


def _catch_error(func):
    @wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            raise HTTPBadRequest(reason=exc) from exc
    return call


def get_metadata():
    return {"author": "Adnane"}


def get_predict_args():
    return {
        "demo-image": fields.Field(required=False, type="file", location="form",
                                   description="image"),
        "data": fields.Field(description="Data file to perform inference on.", required=False,
                             missing=None, type="file", location="form"),
        "accept": fields.Str(description="Media type(s) that is/are acceptable for the response.",
                             validate=validate.OneOf(["image/*", "application/zip"])),
    }


@_catch_error
def predict(**kwargs):
    upload = kwargs["data"]
    path, original = upload.filename, upload.original_filename
    info = "%s %s %s %d\n" % (upload.name, upload.content_type, original, os.path.getsize(path))
    out = os.path.join(tempfile.gettempdir(), "deepaas_corpus_adnaneds_unet_%d" % os.getpid())
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    if kwargs["accept"] == "image/*":
        mask = os.path.join(out, "output.png")
        with open(mask, "wb") as handle:
            handle.write(MASK)
        return open(mask, "rb")
    if kwargs["accept"] == "application/zip":
        members = os.path.join(out, "members")
        os.mkdir(members)
        shutil.copyfile(path, os.path.join(members, os.path.basename(original)))
        with open(os.path.join(members, "demo.txt"), "w") as handle:
            handle.write(info)
        archive = os.path.join(out, "result.zip")
        with zipfile.ZipFile(archive, "w") as bundle:
            for name in sorted(os.listdir(members)):
                bundle.write(os.path.join(members, name), name)
        return open(archive, "rb")
    return None


def train(**kwargs):
    return predict(**kwargs)

"""What DEEPaaS 2.x modules import keeps working."""

from __future__ import annotations

import importlib.metadata
import warnings

import pytest


def test_v2_import_paths():
    from deepaas.model.v2.base import BaseModel
    from deepaas.model.v2.wrapper import ReturnedFile, UploadedFile

    assert UploadedFile()._asdict() == {"name": None, "filename": None, "content_type": None,
                                        "original_filename": None}
    assert UploadedFile("f", "/tmp/x", "text/plain", "x.txt").original_filename == "x.txt"
    assert ReturnedFile._fields == UploadedFile._fields

    class Minimal(BaseModel):
        def predict(self, **kwargs):
            return kwargs

    model = Minimal()
    assert model.predict(a=1) == {"a": 1}
    with pytest.raises(NotImplementedError):
        model.train()
    with pytest.raises(TypeError):
        type("NoPredict", (BaseModel,), {})()


def test_distribution_is_deepaas_2x():
    import deepaas

    assert importlib.metadata.version("deepaas").startswith("2.")
    assert deepaas.extract_version().startswith("2.")


def test_modules_can_still_import_pkg_resources_aiohttp_and_webargs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pkg_resources
        from aiohttp import web
        from webargs import fields, validate
    assert hasattr(pkg_resources, "iter_entry_points")
    assert web.HTTPBadRequest and validate.OneOf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        field = fields.Str(missing="x", description="d", enum=["x"], location="form")
    assert field.metadata["description"] == "d"

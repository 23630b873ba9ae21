"""Entry-point discovery: modules, classes, instances, failures, selection."""

from __future__ import annotations

import sys

import aiohttp.web  # noqa: F401 - the fake modules import these, and install() hides
import pytest
from webargs import fields, validate  # noqa: F401 - site-packages from the import path

from deepaas.exceptions import ModelLoadError, NoModelsFound
from deepaas.model.loading import load_models
from tests.helpers import installed_models

ROOT = str(__import__("pathlib").Path(__file__).resolve().parents[2])


def install(tmp_path, monkeypatch, entries: dict[str, str]) -> None:
    """A fake installed distribution declaring ``entries``; nothing else is on the path."""
    installed_models(tmp_path, entries)
    stdlib = [p for p in sys.path if "site-packages" not in p and p != ""]
    monkeypatch.setattr(sys, "path", [str(tmp_path), ROOT] + stdlib)


def test_module_class_and_instance_entry_points(tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, {"mod": "tests.models.basic", "cls": "tests.models.klass:Model",
                                    "inst": "tests.models.klass:INSTANCE"})
    registry = load_models()
    assert registry.names() == ["cls", "inst", "mod"]
    from tests.models import basic, klass
    assert registry.get("mod").obj is basic
    assert isinstance(registry.get("cls").obj, klass.Model)  # instantiated, not the class
    assert registry.get("inst").obj is klass.INSTANCE
    assert registry.get("cls").source == "tests.models.klass:Model"


def test_broken_module_is_skipped_and_reported(tmp_path, monkeypatch, caplog):
    install(tmp_path, monkeypatch, {"good": "tests.models.bare", "broken": "tests.models.broken"})
    registry = load_models()
    assert registry.names() == ["good"]
    assert [f.name for f in registry.failures] == ["broken"]
    assert "broken on purpose" in registry.failures[0].traceback
    assert "broken" in caplog.text and "Traceback" in caplog.text


def test_broken_module_named_explicitly_is_an_error(tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, {"good": "tests.models.bare", "broken": "tests.models.broken"})
    with pytest.raises(ModelLoadError, match="broken on purpose"):
        load_models(["broken"])


def test_selection_and_unknown_names(tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, {"a": "tests.models.bare", "b": "tests.models.basic"})
    assert load_models(["b"]).names() == ["b"]
    with pytest.raises(ModelLoadError, match="nope"):
        load_models(["nope"])


def test_no_models_says_how_to_declare_one(tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, {})
    with pytest.raises(NoModelsFound, match='entry-points."deepaas.v2.model"'):
        load_models()


def test_named_selection_imports_nothing_else(tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, {"good": "tests.models.bare", "broken": "tests.models.broken"})
    registry = load_models(["good"])
    assert registry.names() == ["good"] and registry.failures == []


def test_an_entry_point_added_by_a_reinstall_is_found_at_the_next_start(tmp_path, monkeypatch):
    """pip keeps the file times of a rebuilt package: a cache keyed by them went stale."""
    import os

    install(tmp_path, monkeypatch, {"mod": "tests.models.basic"})
    assert load_models().names() == ["mod"]
    points = tmp_path / "fake_models-0.1.dist-info" / "entry_points.txt"
    times = os.stat(points)
    points.write_text("[deepaas.v2.model]\nmod = tests.models.basic\nbare = tests.models.bare\n")
    os.utime(points, ns=(times.st_atime_ns, times.st_mtime_ns))  # as pip leaves it
    assert load_models().names() == ["bare", "mod"]

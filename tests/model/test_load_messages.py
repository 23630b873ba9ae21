"""What a module author reads when a model is not installed or declares its arguments wrongly."""

from __future__ import annotations

import types

import pytest
from marshmallow import Schema, validates_schema
from webargs import fields

from deepaas.exceptions import ModelLoadError
from deepaas.model.loading import load_models
from deepaas.model.wrapper import ModelWrapper
from tests.model.test_loading import install


def test_a_model_not_installed_names_the_group_the_fix_and_what_is_installed(
        tmp_path, monkeypatch, caplog):
    install(tmp_path, monkeypatch, {"a": "tests.models.bare", "b": "tests.models.basic"})
    with pytest.raises(ModelLoadError) as caught:
        load_models(["mymodel"])
    text = str(caught.value)
    assert "'mymodel' is not installed" in text
    assert "deepaas.v2.model entry-point group" in text
    assert "Models installed: a, b" in text
    assert '[project.entry-points."deepaas.v2.model"]' in text
    assert 'mymodel = "my_package.api"' in text
    assert "pip install -e . in the module's directory" in text
    assert caplog.text == ""  # said once, in the error, before anything is imported


def _module(**methods):
    return types.SimpleNamespace(predict=lambda **kw: kw, **methods)


class Args(Schema):
    n = fields.Int(required=True)
    word = fields.Str(data_key="w", load_default="hi")


class Checked(Schema):
    n = fields.Int()

    @validates_schema
    def check(self, data, **kwargs):
        raise AssertionError("never reached")


@pytest.mark.parametrize("returned", [None, {}])
def test_no_arguments(returned):
    model = ModelWrapper("m", _module(get_predict_args=lambda: returned))
    assert dict(model.predict_args.fields) == {}


@pytest.mark.parametrize("returned", [Args, Args(), Args().fields,
                                      {"n": fields.Int(required=True), "word": fields.Str(
                                          data_key="w", load_default="hi")}])
def test_a_dict_of_fields_or_a_schema_without_hooks_is_taken(returned):
    model = ModelWrapper("m", _module(get_train_args=lambda: returned))
    spec = model.train_args
    assert sorted(spec.fields) == ["n", "word"]
    assert spec.fields["word"].data_key == "w" and spec.fields["n"].required


@pytest.mark.parametrize("returned, what", [
    ([fields.Int()], "a value of type list"),
    ("n", "a value of type str"),
    (Checked(), "a marshmallow Schema with load or validation hooks"),
    (Checked, "a marshmallow Schema with load or validation hooks"),
])
def test_anything_else_is_a_clear_load_error(returned, what):
    with pytest.raises(ModelLoadError) as caught:
        ModelWrapper("mine", _module(get_predict_args=lambda: returned))
    text = str(caught.value)
    assert text.startswith("model 'mine': get_predict_args() returned %s" % what)
    assert "expected a dict of marshmallow fields (name -> fields.X(...))" in text


def test_a_value_that_is_not_a_field_names_model_and_method():
    with pytest.raises(ModelLoadError, match=r"model 'mine': get_train_args\(\): argument "
                       r"'n' is not a marshmallow field: 3; expected a dict of marshmallow"):
        ModelWrapper("mine", _module(get_train_args=lambda: {"n": 3}))


def test_bad_arguments_fail_the_load_like_other_failures(tmp_path, monkeypatch, caplog):
    install(tmp_path, monkeypatch, {"good": "tests.models.bare", "badargs": "tests.models.badargs"})
    registry = load_models()
    assert registry.names() == ["good"]
    [failure] = registry.failures
    assert failure.name == "badargs" and "returned a value of type list" in failure.error
    assert "get_predict_args() returned a value of type list" in caplog.text
    with pytest.raises(ModelLoadError, match=r"model 'badargs': get_predict_args\(\) returned"):
        load_models(["badargs"])

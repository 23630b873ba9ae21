"""ArgSpec building and parsing, without a server."""

from __future__ import annotations

import marshmallow
import pytest
from webargs import fields, validate

from deepaas.exceptions import InvalidInput
from deepaas.model import args as margs


def test_legacy_keywords_land_in_metadata_and_work():
    spec = margs.build_argspec({
        "a": fields.Int(missing=3, description="the a"),
        "f": fields.Field(type="file", location="form"),
        "e": fields.Str(enum=["x", "y"], missing="x"),
    })
    assert spec.fields["a"].metadata["description"] == "the a"
    assert margs.is_file_field(spec.fields["f"])
    assert spec.fields["e"].metadata["enum"] == ["x", "y"]
    assert margs.parse(spec, margs.Sources()) == {"a": 3, "e": "x"}
    assert [n for n, f in spec.readable().items() if margs.is_file_field(f)] == ["f"]


def test_bound_fields_data_key_load_only_dump_only():
    class S(marshmallow.Schema):
        name = fields.Str(data_key="the-name", required=True)
        key = fields.Str(load_only=True, load_default="k")
        out = fields.Str(dump_only=True)

    spec = margs.build_argspec(S().fields)
    assert set(spec.readable()) == {"name", "key"}
    got = margs.parse(spec, margs.Sources(query={"the-name": ["n"], "out": ["ignored"]}))
    assert got == {"name": "n", "key": "k"}
    with pytest.raises(InvalidInput) as err:
        margs.parse(spec, margs.Sources(query={"name": ["wrong key"]}))
    assert err.value.messages == {"the-name": ["Missing data for required field."]}


def test_field_classes_are_accepted_and_bad_values_rejected():
    spec = margs.build_argspec({"x": fields.Int})
    assert margs.parse(spec, margs.Sources(query={"x": ["4"]})) == {"x": 4}
    with pytest.raises(TypeError):
        margs.build_argspec({"x": 3})


def test_sources_merge_first_wins_lists_take_all():
    spec = margs.build_argspec({"s": fields.Str(), "l": fields.List(fields.Int())})
    got = margs.parse(spec, margs.Sources(query={"s": ["q1", "q2"]},
                                          form={"s": ["form"], "l": ["1", "2"]},
                                          json={"s": "json", "l": [9]}))
    assert got == {"s": "q1", "l": [1, 2]}
    assert margs.parse(spec, margs.Sources(json={"s": "json", "l": [9]})) == {"s": "json", "l": [9]}


def test_accept_choices_gain_star_and_default_to_first():
    original = fields.Str(validate=validate.OneOf(["image/png", "application/json"]))
    spec = margs.build_argspec({"accept": original})
    assert spec.accept_choices == ("image/png", "application/json", "*/*")
    assert spec.accept_name == "accept"
    assert margs.parse(spec, margs.Sources()) == {"accept": "image/png"}
    assert margs.parse(spec, margs.Sources(query={"accept": ["*/*"]})) == {"accept": "*/*"}
    # the module's own field object is left as it was
    assert list(original.validate.choices) == ["image/png", "application/json"]


def test_accept_without_choices():
    spec = margs.build_argspec({"accept": fields.Str(load_default="text/plain")})
    assert spec.accept_choices is None and spec.accept_default == "text/plain"

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
    # the module's own field keeps its default; its list of choices gains */*, in place, as
    # DEEPaaS 2.x appended it (and once only, however often the arguments are read)
    assert original.load_default is marshmallow.missing
    margs.build_argspec({"accept": original})
    assert list(original.validate.choices) == ["image/png", "application/json", "*/*"]
    frozen = fields.Str(validate=validate.OneOf(("image/png", "application/json")))
    assert margs.build_argspec({"accept": frozen}).accept_choices[-1] == "*/*"
    assert frozen.validate.choices == ("image/png", "application/json")


def test_a_train_accept_keeps_its_own_choices_unless_it_shares_predicts_list():
    own = ["application/json", "application/zip"]
    predict = margs.build_argspec({"accept": fields.Str(validate=validate.OneOf(list(own)))})
    train = margs.build_argspec({"accept": fields.Str(
        load_default="application/json", validate=validate.OneOf(own))}, predict=False)
    assert "*/*" in predict.accept_choices
    assert train.accept_choices == ("application/json", "application/zip")
    assert train.accept_default == "application/json"
    with pytest.raises(InvalidInput) as refused:
        margs.parse(train, margs.Sources(headers={"accept": ["*/*"]}, query={"accept": ["*/*"]}))
    assert refused.value.messages == {
        "accept": ["Must be one of: application/json, application/zip."]}
    # real modules build predict's and train's choices from one list: DEEPaaS 2.x's append
    # to predict's then let */* through train too
    shared = ["application/json", "application/zip"]
    margs.build_argspec({"accept": fields.Str(validate=validate.OneOf(shared))})
    train = margs.build_argspec({"accept": fields.Str(validate=validate.OneOf(shared))},
                                predict=False)
    assert margs.parse(train, margs.Sources(query={"accept": ["*/*"]})) == {"accept": "*/*"}


def test_one_json_value_for_a_list_is_a_list_of_one_checked_item():
    spec = margs.build_argspec({"bbox": fields.List(fields.Float()),
                                "tags": fields.List(fields.Str()),
                                "none": fields.List(fields.Str(), allow_none=True)})
    got = margs.parse(spec, margs.Sources(json={"tags": "a", "bbox": 2, "none": None}))
    assert got == {"tags": ["a"], "bbox": [2.0], "none": None}
    with pytest.raises(InvalidInput) as refused:
        margs.parse(spec, margs.Sources(json={"bbox": "1,2,3,4"}))
    assert refused.value.messages == {"bbox": {0: ["Not a valid number."]}}


def test_accept_without_choices():
    spec = margs.build_argspec({"accept": fields.Str(load_default="text/plain")})
    assert spec.accept_choices is None and spec.accept_default == "text/plain"

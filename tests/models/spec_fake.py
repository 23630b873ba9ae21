"""Fake modules for the API-spec tests: every argument shape the documents must describe."""

import marshmallow
from webargs import fields, validate


class Percent(fields.Integer):
    """A module's own field type: documented as its base type."""


class Detail(marshmallow.Schema):
    source = fields.Str()


class Output(marshmallow.Schema):
    label = fields.Str(required=True, metadata={"description": "the best class"})
    scores = fields.List(fields.Float())
    detail = fields.Nested(Detail)


def get_metadata():
    return {"name": "spec-fake", "description": "describes every argument shape"}


def get_predict_args():
    return {
        "count": fields.Int(required=True, metadata={"description": "how many"}),
        "mode": fields.Str(load_default="fast", validate=validate.OneOf(["fast", "slow"])),
        "legacy": fields.Str(missing="a", enum=["a", "b"], description="old keywords"),
        "ratio": fields.Float(load_default=0.5, validate=validate.Range(min=0, max=1)),
        "ids": fields.List(fields.Int(), load_default=[1]),
        "secret": fields.Str(metadata={"format": "password"}),
        "wire": fields.Str(data_key="wire-name", load_default="w"),
        "pct": Percent(load_default=3),
        "image": fields.Field(required=True, metadata={
            "type": "file", "location": "form", "description": "an image"}),
        "old_file": fields.Field(required=False, type="file", location="form"),
        "hidden": fields.Str(dump_only=True),
        "odd": fields.Raw(load_default={1, 2}),  # a set: JSON cannot hold it
        "nan": fields.Float(load_default=float("nan")),
        "later": fields.Str(load_default=lambda: "x"),  # computed per call: no default shown
        "broken": fields.Int(load_default="abc"),  # apispec cannot serialise this default
        "flag": fields.Bool(load_default=False, location="form"),
        "accept": fields.Str(validate=validate.OneOf(["application/json", "image/png"])),
    }


def predict(**kwargs):
    return {"label": "cat"}


def get_train_args():
    return {
        "epochs": fields.Int(load_default=1, metadata={"description": "epochs"}),
        "dataset": fields.Field(metadata={"type": "file"}),
    }


def train(**kwargs):
    return {}


schema = Output


class Plain:
    """A class-style module: no response schema, no accept argument, no train arguments."""

    def predict(self, **kwargs):
        return kwargs

    def get_predict_args(self):
        return {"text": fields.Str(load_default="hi")}


class BrokenOutput(marshmallow.Schema):
    count = fields.Int(load_default="abc")  # apispec cannot serialise this default


class Odd(Plain):
    """A class-style module whose response schema apispec cannot describe."""

    schema = BrokenOutput

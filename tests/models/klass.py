"""A class entry point with self-methods, a response schema and bound/custom fields."""

import marshmallow
from marshmallow import fields as ma_fields
from webargs import fields

from deepaas.model.v2.base import BaseModel


class Upper(ma_fields.Field):
    """A custom field: strings are upper-cased on load."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise marshmallow.ValidationError("Not a string to upper-case.")
        return value.upper()


class ArgsSchema(marshmallow.Schema):
    x = fields.Float(required=True, metadata={"description": "the input"})
    label = Upper(load_default="none")
    secret = fields.Str(load_only=True, load_default="s")


class Response(marshmallow.Schema):
    label = fields.Str(required=True)
    score = fields.Float(required=True)


class Model(BaseModel):
    schema = Response

    def __init__(self):
        self.warmed = False

    def get_metadata(self):
        return {"name": "klass", "description": "class entry point"}

    def warm(self):
        self.warmed = True

    def get_predict_args(self):
        args = dict(ArgsSchema().fields)
        args["bad"] = fields.Bool(load_default=False)
        return args

    def predict(self, **kwargs):
        if kwargs["bad"]:
            return {"label": 3}
        return {"label": kwargs["label"] + ("-warm" if self.warmed else "-cold"),
                "score": kwargs["x"] * 2}


INSTANCE = Model()

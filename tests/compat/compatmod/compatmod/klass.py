"""A class entry point with a response schema (works on the reference only with staticmethods)."""
import marshmallow
from webargs import fields


class Schema(marshmallow.Schema):
    label = fields.Str(required=True)
    score = fields.Float(required=True)


class Classy:
    schema = Schema

    @staticmethod
    def get_metadata():
        return {"name": "compatcls", "summary": "class entry point"}

    @staticmethod
    def get_predict_args():
        return {"x": fields.Float(required=True), "bad": fields.Bool(missing=False)}

    @staticmethod
    def predict(**kwargs):
        if kwargs["bad"]:
            return {"label": 3}
        return {"label": "pos" if kwargs["x"] > 0 else "neg", "score": abs(kwargs["x"])}

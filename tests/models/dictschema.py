"""``schema`` given as a dict of fields, as some 2.x modules do."""

from webargs import fields

schema = {"value": fields.Int(required=True)}


def get_predict_args():
    return {"v": fields.Raw(required=True)}


def predict(**kwargs):
    return {"value": kwargs["v"]}

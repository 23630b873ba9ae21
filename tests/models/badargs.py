"""A module whose get_predict_args returns a list instead of a dict of fields."""

from webargs import fields


def get_predict_args():
    return [fields.Int(required=True)]


def predict(**kwargs):
    return kwargs

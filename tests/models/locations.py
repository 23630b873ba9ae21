"""Arguments that name where they are read from, as webargs 5.5.3 modules declare them."""

from webargs import fields


def get_predict_args():
    return {
        "img": fields.Field(required=True, type="file", location="form"),
        "q": fields.Str(location="query"),
        "qs": fields.Int(location="querystring"),
        "f": fields.Str(location="form"),
        "j": fields.Str(location="json"),
        "nums": fields.List(fields.Int(), location="json", description="from the body"),
        "token": fields.Str(location="headers", data_key="X-Token"),
        "ids": fields.List(fields.Int(), location="headers"),
        "c": fields.Str(location="cookies"),
        "plain": fields.Str(missing="d"),
    }


def get_train_args():
    return {"upload": fields.Field(type="file", location="files"),
            "loose": fields.Field(type="file", required=False)}


def _describe(value):
    if hasattr(value, "original_filename"):
        with open(value.filename, "rb") as handle:
            return ["file", value.original_filename, handle.read().decode()]
    return [type(value).__name__, value]


def predict(**kwargs):
    return {key: _describe(value) for key, value in kwargs.items()}


def train(**kwargs):
    return {key: _describe(value) for key, value in kwargs.items()}

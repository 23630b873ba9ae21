"""Not a public module: the edge cases of argument locations, every spelling webargs 5.5.3
knew, side by side (the public modules use ``location="form"`` and ``"headers"`` mostly)."""

from webargs import fields, validate


def get_metadata():
    return {"name": "edge_locations", "description": "argument locations, one of each"}


def get_predict_args():
    return {
        "img": fields.Field(required=True, type="file", location="form"),
        "q": fields.Str(location="query"),
        "qs": fields.Int(location="querystring"),
        "f": fields.Str(location="form"),
        "fl": fields.List(fields.Str(), location="form"),
        "j": fields.Str(location="json"),
        "j2": fields.List(fields.Int(), location="json", description="numbers"),
        "token": fields.Str(location="headers", data_key="X-Token"),
        "ids": fields.List(fields.Int(), location="headers"),
        "loose": fields.Field(type="file"),
        "plain": fields.Str(missing="d", validate=validate.Length(max=5)),
    }


def get_train_args():
    return {"n": fields.Int(location="query", missing=1), "tag": fields.Str(location="form")}


def _describe(value):
    if hasattr(value, "original_filename"):
        with open(value.filename, "rb") as handle:
            return ["file", value.original_filename, len(handle.read())]
    return [type(value).__name__, value]


def predict(**kwargs):
    return {key: _describe(value) for key, value in sorted(kwargs.items())}


def train(**kwargs):
    return {key: _describe(value) for key, value in sorted(kwargs.items())}

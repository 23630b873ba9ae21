"""Not a public module: two argument rules of DEEPaaS 2.6.0 that real public modules depend on,
side by side.

- ``accept`` located in the headers (as the ai4os-hub template's schemas declare it) in predict
  and in train, each with a list of choices of its own: 2.6.0 appends ``*/*`` to predict's
  list only, so a train POST carrying curl's ``Accept: */*`` is refused with the module's
  message (demo_advanced's predict and train share one list, and there train takes ``*/*``).
- ``List`` arguments given one value in a JSON body: webargs 5.5.3 made it a list of one item
  and checked that item.
"""

from webargs import fields, validate


def get_metadata():
    return {"name": "edge_arguments", "description": "accept in train; one value for a list"}


def _accept():
    return fields.Str(metadata={"location": "headers", "description": "Response format."},
                      validate=validate.OneOf(["application/json", "application/zip"]))


def get_predict_args():
    return {"accept": _accept(),
            "bbox": fields.List(fields.Float(), metadata={"location": "json"}),
            "tags": fields.List(fields.Str(), metadata={"location": "json"})}


def get_train_args():
    return {"accept": _accept(),
            "bbox": fields.List(fields.Float(), metadata={"location": "json"}),
            "tags": fields.List(fields.Str(), metadata={"location": "json"}),
            "epochs": fields.Int(load_default=1)}


def predict(accept=None, **kwargs):
    return {"accept": accept, **kwargs}


def train(**kwargs):
    return dict(sorted(kwargs.items()))

"""A module that fails without a message (a bare ``assert``), or with one."""

from webargs import fields


def _args():
    return {"how": fields.Str(load_default="bare")}


get_predict_args = get_train_args = _args


def _fail(how):
    if how == "bare":
        raise AssertionError  # what `assert False` raises: str() is ""
    if how == "blank":
        raise RuntimeError("  ")
    raise KeyError(how)  # str() is "'<how>'": kept exactly, as DEEPaaS 2.x did


def predict(**kwargs):
    _fail(kwargs["how"])


def train(**kwargs):
    _fail(kwargs["how"])

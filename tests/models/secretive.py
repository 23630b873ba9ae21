"""A module with secret arguments, declared each way modules declare them.

``predict`` and ``train`` answer a digest of the secrets they received (never the secrets),
so a test proves the module got the real values while no answer holds them. ``fail`` makes
them raise an error that quotes the token, as a client library's error quoting a URL would;
with ``stream`` predict streams, and fails so after its first item.
A training given a ``gate`` writes its pid to GATE.pid and waits until GATE exists.
"""

import hashlib
import os
import time

from marshmallow import ValidationError
from webargs import fields


def _refuse(value):
    if value.startswith("bad-"):  # a module's own validator that quotes what it refuses
        raise ValidationError("%s is not a token this module takes" % value)


def _args():
    return {
        "token": fields.Str(metadata={"format": "password"}, validate=_refuse),
        "key": fields.Str(load_only=True, data_key="apiKey"),
        "legacy": fields.Str(format="password"),  # the marshmallow 3 keyword real modules use
        "note": fields.Str(load_default=""),
        "fail": fields.Bool(load_default=False),
        "gate": fields.Str(load_default=""),
        "stream": fields.Bool(load_default=False),
    }


get_predict_args = get_train_args = _args


def digest(token, key, legacy):
    """What predict and train answer for the secrets they were given."""
    return hashlib.sha256("\n".join((token, key, legacy)).encode("utf-8")).hexdigest()


def _answer(kwargs):
    if kwargs["fail"]:
        raise RuntimeError("login refused for token %s" % kwargs["token"])
    got = digest(kwargs.get("token", ""), kwargs.get("key", ""), kwargs.get("legacy", ""))
    return {"got": got, "note": kwargs["note"]}


def _streamed(kwargs):
    yield {"step": 1}
    _answer(kwargs)
    yield {"step": 2}


def predict(**kwargs):
    if kwargs["stream"]:
        return _streamed(kwargs)
    return _answer(kwargs)


def train(**kwargs):
    print("training with note %s" % kwargs["note"], flush=True)
    if kwargs["gate"]:
        with open(kwargs["gate"] + ".pid", "w") as handle:
            handle.write(str(os.getpid()))
        while not os.path.exists(kwargs["gate"]):
            time.sleep(0.02)
    return _answer(kwargs)

"""A long list argument, validated item by item, that a test can watch while it is checked.

``WATCH.started`` is released once per validation as it begins; a validation whose list has
``WATCH.hold_at`` items (or more) then waits at its end for ``WATCH.gate`` (and fails if it
stays closed), so that a test knows validations are in progress while it sends other requests.
"""

import threading

from marshmallow import ValidationError
from webargs import fields


class _Watch:
    def __init__(self):
        self.reset()

    def reset(self, hold_at=None):
        self.started = threading.Semaphore(0)
        self.gate = threading.Event()
        self.hold_at = hold_at


WATCH = _Watch()


class _WatchedList(fields.List):
    def _deserialize(self, value, attr, data, **kwargs):
        WATCH.started.release()
        result = super()._deserialize(value, attr, data, **kwargs)
        # Bounded, and an error when the test never opened the gate: validating on the event
        # loop would block the test's own requests until then.
        if WATCH.hold_at is not None and len(result) >= WATCH.hold_at \
                and not WATCH.gate.wait(30):
            raise ValidationError("the test never opened the gate")
        return result


def get_predict_args():
    return {"xs": _WatchedList(fields.Int(), required=True)}


def predict(**kwargs):
    return {"n": len(kwargs["xs"]), "total": sum(kwargs["xs"])}

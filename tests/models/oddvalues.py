"""A module whose predict and train return what JSON cannot hold as it is: NaN and Infinity,
numpy values, sets, dates, bytes, and objects with no JSON form at all."""

import datetime
import math
import pathlib
import socket

from webargs import fields

NAN, INF = math.nan, math.inf


class Secret:
    """A custom object whose text must never reach a client."""

    def __repr__(self):
        return "<Secret password=hunter2>"

    __str__ = __repr__


def _closed_socket():
    conn = socket.socket()
    conn.close()  # its type is what matters; an open one would outlive the test
    return conn


def _numpy():
    import numpy as np

    return {"probs": np.array([0.25, NAN, INF], dtype=np.float32),
            "grid": np.array([[1.0, -INF], [NAN, 2.0]]),
            "mean": np.float32(NAN), "top": np.float64(INF), "count": np.int64(3),
            "ok": np.float32(0.5)}


def _plain():
    return {"set": {3, 1, 2}, "words": frozenset({"pear", "apple"}), "pair": (1, "x"),
            "day": datetime.date(2024, 5, 6),
            "when": datetime.datetime(2024, 5, 6, 7, 8, 9),
            "text": "café".encode(), "path": pathlib.PurePosixPath("/data/x.csv"),
            "keys": {1: "int", datetime.date(2024, 1, 2): "date", None: "none"}}


VALUES = {
    "nan-list": lambda: [1.5, NAN, INF, -INF],
    "nan-dict": lambda: {"score": NAN, "fine": 0.5, "nested": {"loss": -INF}},
    "numpy": _numpy,
    "plain": _plain,
    "binary": lambda: {"blob": b"\xff\xfe\x00"},
    "object": lambda: {"obj": object()},
    "socket": lambda: {"conn": _closed_socket()},
    "secret": lambda: [{"thing": Secret()}],
    "lambda": lambda: {"call": lambda: None},
}


def get_predict_args():
    return {"ret": fields.Str(required=True)}


def predict(ret):
    return VALUES[ret]()


def get_train_args():
    return {"ret": fields.Str(load_default="nan")}


def train(ret):
    if ret == "nan":
        return {"loss": NAN, "history": [0.5, INF], "epochs": 2}
    return {"model": Secret()}

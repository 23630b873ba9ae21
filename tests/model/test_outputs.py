"""Answers built from what modules return."""

from __future__ import annotations

import datetime
import decimal
import io
import pathlib

from deepaas.model.outputs import dumps, jsonable, raw_bytes
from deepaas.model.wrapper import ReturnedFile


class FakeArray:
    """Quacks like a numpy array."""

    def tolist(self):
        return [[1, 2], [3, 4]]


class FakeScalar:
    def item(self):
        return 7


def test_values_json_cannot_hold():
    value = {
        "set": {1}, "tuple": (1, 2), "when": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "day": datetime.date(2026, 1, 2), "text": b"abc", "blob": b"\xff\xfe",
        "path": pathlib.Path("/x/y"), "array": FakeArray(), "scalar": FakeScalar(),
        "other": decimal.Decimal("1.5"),
    }
    assert jsonable(value) == {
        "set": [1], "tuple": [1, 2], "when": "2026-01-02T03:04:05", "day": "2026-01-02",
        "text": "abc", "blob": "//4=", "path": "/x/y", "array": [[1, 2], [3, 4]], "scalar": 7,
        "other": "1.5",
    }
    assert dumps({"a": 1, "b": [1, 2]}) == '{"a": 1, "b": [1, 2]}'


def test_raw_bytes_from_every_kind(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"file bytes")
    assert raw_bytes(b"x") == b"x" and raw_bytes(bytearray(b"y")) == b"y"
    assert raw_bytes("é") == "é".encode()
    assert raw_bytes(io.BytesIO(b"buf")) == b"buf"
    assert raw_bytes(ReturnedFile(filename=str(path))) == b"file bytes"
    handle = open(path, "rb")
    assert raw_bytes(handle) == b"file bytes" and handle.closed
    assert raw_bytes(io.StringIO("text")) == b"text"
    assert raw_bytes({"a": 1}) == b'{"a": 1}'

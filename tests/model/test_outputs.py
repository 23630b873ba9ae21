"""Answers built from what modules return."""

from __future__ import annotations

import datetime
import decimal
import io
import json
import logging
import math
import pathlib

import pytest

from deepaas.exceptions import NoJsonForm
from deepaas.model.outputs import NullWarnings, dumps, encode, jsonable, raw_bytes
from deepaas.model.wrapper import ReturnedFile


class FakeArray:
    """Quacks like a numpy array."""

    def tolist(self):
        return [[1, 2], [3, 4]]


class FakeScalar:
    def item(self):
        return 7


def _reject(constant):
    raise AssertionError("invalid JSON: %s" % constant)


def test_values_json_cannot_hold():
    value = {
        "set": {3, 1, 2}, "tuple": (1, 2), "when": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "day": datetime.date(2026, 1, 2), "at": datetime.time(3, 4), "text": b"abc",
        "path": pathlib.Path("/x/y"), "array": FakeArray(), "scalar": FakeScalar(),
    }
    assert jsonable(value) == {
        "set": [1, 2, 3], "tuple": [1, 2], "when": "2026-01-02T03:04:05", "day": "2026-01-02",
        "at": "03:04:00", "text": "abc", "path": "/x/y", "array": [[1, 2], [3, 4]],
        "scalar": 7,
    }
    assert dumps({"a": 1, "b": [1, 2]}) == '{"a": 1, "b": [1, 2]}'


def test_sets_are_sorted_when_their_elements_compare():
    assert dumps({"z", "a", "m"}) == '["a", "m", "z"]'
    assert dumps(frozenset({2.5, 1, -3})) == "[-3, 1, 2.5]"
    assert sorted(jsonable({1, "a"}), key=str) == [1, "a"]  # mixed: iteration order


def test_dict_keys_become_text():
    keys = {"s": 0, 1: 1, 2.5: 2, False: 3, None: 4, datetime.date(2026, 1, 2): 5,
            pathlib.PurePosixPath("/k"): 6, b"raw": 7, FakeScalar(): 8}
    assert json.loads(dumps(keys)) == {"s": 0, "1": 1, "2.5": 2, "false": 3, "null": 4,
                                       "2026-01-02": 5, "/k": 6, "raw": 7, "7": 8}
    with pytest.raises(NoJsonForm, match=r"no JSON form: tuple \(a dict key\) at p$"):
        dumps({"p": {(1, 2): "pair"}})


def test_nan_and_infinity_become_null_with_their_fields():
    value = {"a": [1.0, math.nan, math.inf], "b": {"c": -math.inf}, "d": [{"e": math.nan}] * 3,
             "my key": math.nan}
    text, nulled = encode(value)
    assert json.loads(text, parse_constant=_reject) == {
        "a": [1.0, None, None], "b": {"c": None}, "d": [{"e": None}] * 3, "my key": None}
    assert nulled == {"a[*]": "a[1]", "b.c": "b.c", "d[*].e": "d[0].e",
                      '["my key"]': '["my key"]'}


def test_numpy_values_with_nan():
    np = pytest.importorskip("numpy")
    value = {"f32": np.array([1, np.nan], dtype=np.float32), "s": np.float32(np.inf),
             "f64": np.float64(np.nan), "i": np.int64(4), "ok": np.float64(0.25)}
    text, nulled = encode(value)
    assert json.loads(text, parse_constant=_reject) == {
        "f32": [1.0, None], "s": None, "f64": None, "i": 4, "ok": 0.25}
    assert set(nulled) == {"f32[*]", "s", "f64"}


def test_both_paths_write_the_same_text():
    # The walk (taken when a NaN is somewhere) writes every other value as json does.
    np = pytest.importorskip("numpy")
    value = {"x": np.float64(0.1), "t": (1, 2), "s": {2, 1}, "k": {1: 2, 2.5: 3, None: 4},
             "b": b"t", "a": np.array([[0.5, 1.0]]), "flag": True, "n": None, "txt": "é"}
    fast, _ = encode(value)
    slow, nulled = encode({**value, "nan": math.nan})
    assert slow == fast[:-1] + ', "nan": null}' and nulled == {"nan": "nan"}


class Opaque:
    def __repr__(self):
        return "<Opaque token=s3cr3t at 0x1234>"


@pytest.mark.parametrize(("value", "message"), [
    ({"p": object()}, "object at p"),
    ([1, {"q": [Opaque()]}], "tests.model.test_outputs.Opaque at [1].q[0]"),
    ({"p": decimal.Decimal("1.5")}, "decimal.Decimal at p"),
    (Opaque(), "tests.model.test_outputs.Opaque at the top level"),
    ({"p": b"\xff"}, "bytes at p (not UTF-8 text"),
    ({"p": {Opaque()}}, "tests.model.test_outputs.Opaque at p[0]"),
])
def test_no_json_form_names_type_and_field_never_text(value, message):
    with pytest.raises(NoJsonForm) as caught:
        encode(value, "predict returned")
    error = caught.value
    assert error.status == 500
    assert error.message.startswith("predict returned a value with no JSON form: " + message)
    assert "s3cr3t" not in error.message and "0x" not in error.message


def test_a_value_that_contains_itself():
    loop: dict = {"a": [1]}
    loop["a"].append(loop)
    with pytest.raises(NoJsonForm, match=r"no JSON form: dict at a\[1\] \(it contains itself\)"):
        dumps(loop)


def test_null_warnings_once_per_field_and_bounded(caplog):
    caplog.set_level(logging.WARNING, "deepaas.model.outputs")
    warnings = NullWarnings("m", limit=2)
    warnings.report([("a[*]", "a[3]"), ("b", "b")])
    warnings.report([("a[*]", "a[0]"), ("b", "b")])
    assert len(caplog.records) == 2 and "at a[3]," in caplog.records[0].getMessage()
    warnings.report([("c", "c"), ("d", "d")])  # past the bound: one last word, then silence
    warnings.report([("e", "e")])
    assert len(caplog.records) == 3
    assert "more than 2 fields" in caplog.records[2].getMessage()


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


def test_jsonable_text_shows_what_has_no_json_form_as_its_text():
    from deepaas.model.outputs import jsonable_text

    class Span:
        def __str__(self) -> str:
            return "<2019-01-01,2019-02-01)"

    loop: list = []
    loop.append(loop)
    shown, where = jsonable_text({"span": Span(), "ids": {1, 2}, "nan": float("nan"),
                                  (1, 2): "tuple key", "loop": loop})
    assert shown == {"span": "<2019-01-01,2019-02-01)", "ids": [1, 2], "nan": None,
                     "(1, 2)": "tuple key", "loop": ["<list containing itself>"]}
    assert where == ["span", "the top level", "loop[0]"]
    assert jsonable_text({"plain": [1.5]}) == ({"plain": [1.5]}, [])

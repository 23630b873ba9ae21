"""Honest JSON over HTTP: NaN and Infinity answer null (warned once per field), values with no
JSON form answer 500 naming type and field, and the other conversions answer as documented in
``deepaas.model.outputs``. The same for what a training returns."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper
from tests.helpers import poll_job

SOURCE = "tests.models.oddvalues"
URL = "/v2/models/oddvalues/predict/"
TRAIN = "/v2/models/oddvalues/train/"


def _reject(constant: str) -> Any:
    raise AssertionError("invalid JSON: %s" % constant)


def strict(text: str) -> Any:
    """Parse as browsers' JSON.parse does: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=_reject)


@pytest.fixture
async def client(serve: Any) -> Any:
    return await serve(Registry.of(ModelWrapper("oddvalues", resolve(SOURCE), SOURCE)))


async def _predict(client: Any, ret: str) -> tuple[int, Any]:
    resp = await client.post(URL, params={"ret": ret})
    return resp.status, strict(await resp.text())


def _warnings(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "deepaas.model.outputs" and r.levelno == logging.WARNING]


async def test_nan_and_infinity_answer_null_and_warn_once_per_field(client, caplog):
    caplog.set_level(logging.WARNING, "deepaas.model.outputs")
    for _ in range(2):
        status, body = await _predict(client, "nan-list")
        assert status == 200
        assert body == {"status": "OK", "predictions": [1.5, None, None, None]}
        status, body = await _predict(client, "nan-dict")
        assert status == 200
        assert body["predictions"] == {"score": None, "fine": 0.5, "nested": {"loss": None}}
    found = _warnings(caplog)
    assert len(found) == 3, found  # one per field, none on the second round
    assert sum("at predictions[1]," in w for w in found) == 1
    assert sum("at predictions.score," in w for w in found) == 1
    assert sum("at predictions.nested.loss," in w for w in found) == 1
    assert all("'oddvalues'" in w and "null" in w for w in found)


async def test_numpy_arrays_and_scalars_with_nan(client, caplog):
    pytest.importorskip("numpy")
    caplog.set_level(logging.WARNING, "deepaas.model.outputs")
    for _ in range(2):
        status, body = await _predict(client, "numpy")
        assert status == 200
        assert body["predictions"] == {"probs": [0.25, None, None],
                                       "grid": [[1.0, None], [None, 2.0]],
                                       "mean": None, "top": None, "count": 3, "ok": 0.5}
    found = _warnings(caplog)
    # an array is one field whatever the index: probs[1] and probs[2] warn once, as probs[*]
    assert len(found) == 4, found
    for path in ("predictions.probs[1]", "predictions.grid[0][1]", "predictions.mean",
                 "predictions.top"):
        assert sum(("at %s," % path) in w for w in found) == 1, (path, found)


async def test_nan_from_worker_processes_warns_in_the_server(serve, caplog):
    caplog.set_level(logging.WARNING, "deepaas.model.outputs")
    model = ModelWrapper("oddvalues", resolve(SOURCE), SOURCE)
    client = await serve(Registry.of(model), isolate=True)
    for _ in range(2):
        status, body = await _predict(client, "nan-dict")
        assert status == 200 and body["predictions"]["score"] is None
    assert len(_warnings(caplog)) == 2  # score and nested.loss, once each


@pytest.mark.parametrize(("ret", "kind", "where"), [
    ("object", "object", "predictions.obj"),
    ("socket", "socket.socket", "predictions.conn"),
    ("secret", "tests.models.oddvalues.Secret", "predictions[0].thing"),
    ("lambda", "function", "predictions.call"),
])
async def test_no_json_form_is_500_naming_type_and_field(client, ret, kind, where):
    resp = await client.post(URL, params={"ret": ret})
    assert resp.status == 500
    text = await resp.text()
    assert strict(text) == {"message": "Model 'oddvalues' predict returned a value with no "
                                       "JSON form: %s at %s" % (kind, where)}
    assert "0x" not in text and "hunter2" not in text and "fd=" not in text


async def test_sets_tuples_dates_paths_bytes_and_keys(client):
    status, body = await _predict(client, "plain")
    assert status == 200
    assert body["predictions"] == {
        "set": [1, 2, 3], "words": ["apple", "pear"], "pair": [1, "x"],
        "day": "2024-05-06", "when": "2024-05-06T07:08:09", "text": "café",
        "path": "/data/x.csv", "keys": {"1": "int", "2024-01-02": "date", "null": "none"}}


async def test_bytes_that_are_not_utf8_are_500_with_a_hint(client):
    resp = await client.post(URL, params={"ret": "binary"})
    assert resp.status == 500
    message = strict(await resp.text())["message"]
    assert message.startswith("Model 'oddvalues' predict returned a value with no JSON form: "
                              "bytes at predictions.blob (not UTF-8 text")
    assert "base64" in message and "accept" in message


async def test_training_with_nan_is_done_with_null(client):
    resp = await client.post(TRAIN, params={"ret": "nan"})
    uuid = (await resp.json())["uuid"]
    job = await poll_job(client, TRAIN, uuid)
    assert job["status"] == "done", job
    assert job["result"]["output"] == {"loss": None, "history": [0.5, None], "epochs": 2}
    record = strict(await (await client.get(TRAIN + uuid)).text())
    assert record["result"]["output"]["loss"] is None
    listing = strict(await (await client.get(TRAIN)).text())
    assert [j["result"]["output"]["history"] for j in listing] == [[0.5, None]]
    log = await (await client.get(TRAIN + uuid + "/logs")).text()
    assert "[deepaas] train returned NaN or Infinity at output.loss: stored as null" in log
    assert "at output.history[1]:" in log


async def test_training_returning_no_json_form_ends_in_error(client):
    resp = await client.post(TRAIN, params={"ret": "secret"})
    uuid = (await resp.json())["uuid"]
    job = await poll_job(client, TRAIN, uuid)
    assert job["status"] == "error", job
    text = await (await client.get(TRAIN + uuid)).text()
    assert strict(text)["message"] == ("train returned a value with no JSON form: "
                                       "tests.models.oddvalues.Secret at output.model")
    assert "hunter2" not in text and "0x" not in text
    log = await (await client.get(TRAIN + uuid + "/logs")).text()
    assert "[deepaas] train returned a value with no JSON form" in log and "hunter2" not in log


class _Version:
    """A version object as packaging libraries have: no JSON form, a meaningful text."""

    def __str__(self) -> str:
        return "1.2.3"


async def test_metadata_with_values_json_cannot_hold_never_breaks_the_listing(serve, caplog):
    import decimal
    import types

    module = types.SimpleNamespace(
        get_metadata=lambda: {"name": "odd", "version": _Version(), "score": float("nan"),
                              "price": decimal.Decimal("2.50")},
        predict=lambda **kwargs: {})
    client = await serve(Registry.of(ModelWrapper("odd", module, "odd")))
    with caplog.at_level(logging.WARNING):
        resp = await client.get("/v2/models/")
        assert resp.status == 200
        [model] = strict(await resp.text())["models"]
    assert (model["version"], model["score"], model["price"]) == ("1.2.3", None, "2.50")
    assert any("get_metadata()" in r.getMessage() and "shown as text" in r.getMessage()
               for r in caplog.records)
    resp = await client.get("/v2/models/odd/")
    assert resp.status == 200 and strict(await resp.text())["version"] == "1.2.3"
    assert sum("get_metadata()" in r.getMessage() for r in caplog.records) == 1  # not per GET


async def test_none_answered_raw_is_an_empty_body_as_in_deepaas_2(serve):
    import types

    from webargs import fields, validate

    module = types.SimpleNamespace(
        get_predict_args=lambda: {"accept": fields.Str(validate=validate.OneOf(
            ["application/zip", "application/json"]))},
        predict=lambda **kwargs: None)
    client = await serve(Registry.of(ModelWrapper("nothing", module, "nothing")))
    resp = await client.post("/v2/models/nothing/predict/", params={"accept": "application/zip"})
    assert resp.status == 200 and resp.content_type == "application/zip"
    assert await resp.read() == b""
    resp = await client.post("/v2/models/nothing/predict/",
                             params={"accept": "application/json"})
    assert strict(await resp.text()) == {"status": "OK", "predictions": None}

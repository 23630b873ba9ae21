"""The demo plugin (plugins/demo): every part of the module contract, directly and over HTTP.

Needs ``pip install -e plugins/demo`` (the plugin is its own distribution); skipped without it.
"""

from __future__ import annotations

import hashlib
import struct
import time
import zlib

import aiohttp
import pytest

from tests.helpers import poll_job

api = pytest.importorskip("deepaas_demo.api")
png = pytest.importorskip("deepaas_demo.png")

from deepaas.exceptions import InvalidInput  # noqa: E402
from deepaas.model import args as margs  # noqa: E402
from deepaas.model.loading import Registry, discover  # noqa: E402
from deepaas.model.wrapper import ModelWrapper, UploadedFile  # noqa: E402

SOURCE = "deepaas_demo.api"
URL = "/v2/models/demo/"


@pytest.fixture
def warmed(monkeypatch):
    """A freshly warmed module; the global is restored afterwards."""
    monkeypatch.setattr(api, "_MODEL", None)
    api.warm()
    return api


@pytest.fixture
def model(warmed):
    return ModelWrapper("demo", warmed, SOURCE)


def _kwargs(model, **query):
    """The validated keyword arguments for a query, as the server would pass them."""
    multi = {key: value if isinstance(value, list) else [value] for key, value in query.items()}
    return margs.parse(model.predict_args, margs.Sources(query=multi))


def _chunks(data):
    """Split a PNG into (type, payload), checking each chunk's CRC."""
    assert data[:8] == png.SIGNATURE
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, payload = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF
        out.append((kind, payload))
        pos += 12 + length
    return out


def _decode(data):
    """Width, height and RGB rows of a PNG the demo wrote (8-bit RGB, filter 0)."""
    chunks = _chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 2, 0)
    raw = zlib.decompress(chunks[1][1])
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    rows = [raw[y * stride:(y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


# --- discovery and metadata --------------------------------------------------------------------

def test_entry_point_is_installed():
    found, _ = discover()
    assert found["demo"][0] == SOURCE


def test_metadata_has_the_usual_keys(model):
    meta = model.metadata()
    assert meta["name"] == "demo"
    for key in ("description", "version", "author", "license", "url"):
        assert isinstance(meta[key], str) and meta[key]


# --- warm ---------------------------------------------------------------------------------------

def test_a_cold_module_shows_itself(model, monkeypatch):
    monkeypatch.setattr(api, "_MODEL", None)
    cold = api.predict(**_kwargs(model))
    assert cold["model"]["warmed_by"] == "first use"
    api.warm()
    warm = api.predict(**_kwargs(model))
    assert warm["model"]["warmed_by"] == "warm"


def test_wrapper_warm_loads_the_global(monkeypatch):
    monkeypatch.setattr(api, "_MODEL", None)
    ModelWrapper("demo", api, SOURCE).warm()
    assert api._MODEL is not None and api._MODEL["warmed_by"] == "warm"


# --- arguments ----------------------------------------------------------------------------------

def test_predict_args_build_with_defaults(model):
    spec = model.predict_args
    assert set(spec.fields) == {"name", "language", "n", "shout", "values", "scale", "data",
                                "accept"}
    assert spec.accept_default == "application/json"
    assert spec.accept_choices == ("application/json", "image/png", "*/*")
    assert [n for n, f in spec.readable().items() if margs.is_file_field(f)] == ["data"]
    kwargs = _kwargs(model)
    assert kwargs == {"name": "world", "language": "en", "n": 1, "shout": False,
                      "values": [3, 1, 4, 1, 5], "scale": 1.0, "accept": "application/json"}


def test_legacy_and_modern_keywords_both_land_in_metadata(model):
    fields = model.predict_args.fields
    assert fields["name"].metadata["description"] == "Who to greet."
    assert margs.field_default(fields["name"]) == "world"
    assert fields["n"].metadata["description"]
    assert fields["data"].metadata["location"] == "form"


def test_predict_args_parse_strings(model):
    kwargs = _kwargs(model, n="3", values=["2", "7"], shout="true", scale="0.5", language="fr")
    assert kwargs["n"] == 3 and kwargs["values"] == [2, 7]
    assert kwargs["shout"] is True and kwargs["scale"] == 0.5 and kwargs["language"] == "fr"


@pytest.mark.parametrize("query, wire", [
    ({"n": "9"}, "n"),
    ({"n": "x"}, "n"),
    ({"language": "tlh"}, "language"),
    ({"values": ["1", "-2"]}, "values"),
    ({"accept": "text/html"}, "accept"),
])
def test_invalid_predict_args_name_the_field(model, query, wire):
    with pytest.raises(InvalidInput) as info:
        _kwargs(model, **query)
    assert list(info.value.messages) == [wire]


def test_train_args_parse(model):
    spec = model.train_args
    assert margs.parse(spec, margs.Sources()) == {
        "epochs": 3, "learning_rate": 0.1, "optimizer": "sgd", "epoch_seconds": 0.1}
    parsed = margs.parse(spec, margs.Sources(query={"epochs": ["2"]}, json={"optimizer": "adam"}))
    assert parsed["epochs"] == 2 and parsed["optimizer"] == "adam"
    with pytest.raises(InvalidInput) as info:
        margs.parse(spec, margs.Sources(query={"learning_rate": ["0"]}))
    assert list(info.value.messages) == ["learning_rate"]


# --- predict ------------------------------------------------------------------------------------

def test_json_prediction_matches_the_schema(model):
    ret = api.predict(**_kwargs(model, name="Ada", language="es", n="2", shout="1",
                                values=["1", "2"], scale="2"))
    assert api.schema().load(ret) is not None
    assert ret["greeting"] == "HOLA, ADA! HOLA, ADA!"
    assert ret["scores"] == [4.5, 8.5] and ret["total"] == 13.0
    assert ret["file"] is None
    answer = model.predict(_kwargs(model), "application/json")
    assert answer.is_json and answer.body.startswith(b'{"greeting": "Hello, world!"')


def test_png_prediction_is_a_real_bar_chart(model):
    values = ["1", "5", "0", "3"]
    data = api.predict(**_kwargs(model, values=values, accept="image/png"))
    assert isinstance(data, bytes) and data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height, rows = _decode(data)
    assert (width, height) == png.chart_size(len(values))
    # the tallest bar (the second) reaches the top margin; the background stays light
    x = png.GAP + 1 * (png.BAR_WIDTH + png.GAP) + 1
    top = rows[png.GAP]
    assert top[3 * x:3 * x + 3] != bytes(png._BACKGROUND)
    assert rows[0][3 * x:3 * x + 3] == bytes(png._BACKGROUND)
    answer = model.predict(_kwargs(model, accept="image/png"), "image/png")
    assert not answer.is_json and answer.content_type == "image/png"


def test_uploaded_file_is_described(model, tmp_path):
    content = b"some bytes\n" * 1000
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    upload = UploadedFile(name="data", filename=str(path), content_type="text/plain",
                          original_filename="notes.txt")
    ret = api.predict(**dict(_kwargs(model), data=upload))
    api.schema().load(ret)
    assert ret["file"] == {"original_filename": "notes.txt", "content_type": "text/plain",
                           "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


# --- train --------------------------------------------------------------------------------------

def test_train_prints_progress_and_returns_metrics(model, capsys):
    query = {"epochs": ["4"], "epoch_seconds": ["0"]}
    kwargs = margs.parse(model.train_args, margs.Sources(query=query))
    started = time.monotonic()
    result = api.train(**kwargs)
    assert time.monotonic() - started < 0.5
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].startswith("epoch 1/4 loss=")
    assert result["epochs"] == 4 and len(result["history"]) == 4
    losses = [h["loss"] for h in result["history"]]
    assert losses == sorted(losses, reverse=True) and result["final_loss"] == losses[-1]
    assert 0 < result["accuracy"] < 1 and result["warmed_by"] == "warm"


def test_default_training_is_quick(model):
    defaults = margs.parse(model.train_args, margs.Sources())
    assert defaults["epochs"] * defaults["epoch_seconds"] < 1.0


# --- over HTTP ----------------------------------------------------------------------------------

@pytest.fixture
async def client(serve, warmed):
    return await serve(Registry.of(ModelWrapper("demo", warmed, SOURCE)))


async def test_http_predict_json_png_and_upload(client):
    resp = await client.post(URL + "predict/", params=[("values", "2"), ("values", "7")])
    assert resp.status == 200
    assert (await resp.json())["scores"] == [4.5, 14.5]
    resp = await client.post(URL + "predict/", params={"accept": "image/png"})
    assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
    assert _decode(await resp.read())[:2] == png.chart_size(5)
    form = aiohttp.FormData({"n": "2"})
    form.add_field("data", b"abc", filename="abc.txt", content_type="text/plain")
    body = await (await client.post(URL + "predict/", data=form)).json()
    assert body["greeting"] == "Hello, world! Hello, world!"
    assert body["file"]["original_filename"] == "abc.txt" and body["file"]["size"] == 3
    resp = await client.post(URL + "predict/", params={"n": "0"})
    assert resp.status == 422 and list(await resp.json()) == ["n"]


async def test_spec_shows_the_demo_arguments(client):
    spec = await (await client.get("/swagger.json")).json()
    predict = spec["paths"][URL + "predict/"]["post"]
    params = {p["name"]: p for p in predict["parameters"]}
    assert params["data"]["in"] == "formData" and params["data"]["type"] == "file"
    assert (params["n"]["minimum"], params["n"]["maximum"]) == (1, 5)
    assert params["language"]["enum"] == ["en", "es", "fr", "de"]
    assert params["name"]["default"] == "world" and params["name"]["description"]
    assert params["values"]["collectionFormat"] == "multi"
    assert "image/png" in predict["produces"]
    assert "ModelPredictionResponse" in spec["definitions"]
    train = {p["name"] for p in spec["paths"][URL + "train/"]["post"]["parameters"]}
    assert train == {"epochs", "learning_rate", "optimizer", "epoch_seconds", "DEEPaaS-Resources"}


async def test_http_training_runs_in_a_warmed_child(client):
    resp = await client.post(URL + "train/", params={"epochs": "2", "epoch_seconds": "0"})
    assert resp.status == 200
    job = await poll_job(client, URL + "train/", (await resp.json())["uuid"])
    assert job["status"] == "done", job
    output = job["result"]["output"]
    assert output["epochs"] == 2 and output["warmed_by"] == "warm"
    # the demo reports progress: the record carries the latest values and the series
    assert job["progress"]["step"] == 2 and job["progress"]["fraction"] == 1.0
    assert [point["step"] for point in job["metrics"]] == [1, 2]
    log = await (await client.get(URL + "train/" + job["uuid"] + "/logs")).text()
    assert "epoch 2/2 loss=" in log

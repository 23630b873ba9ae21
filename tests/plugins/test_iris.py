"""The iris plugin (plugins/iris): a real trainable model, directly and over HTTP.

Needs scikit-learn and ``pip install -e plugins/iris`` (the plugin is its own distribution);
skipped without them. Every test gets its own data directory (``DEEPAAS_DATA_DIR``) and an
empty model cache, so no test sees another's trained model.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
import time

import pytest

from tests.helpers import poll_job

pytest.importorskip("sklearn")
api = pytest.importorskip("deepaas_iris.api")
store = pytest.importorskip("deepaas_iris.store")

from aiohttp import web  # noqa: E402

from deepaas.exceptions import InvalidInput  # noqa: E402
from deepaas.model import args as margs  # noqa: E402
from deepaas.model.loading import Registry, discover  # noqa: E402
from deepaas.model.wrapper import ModelWrapper  # noqa: E402

SOURCE = "deepaas_iris.api"
URL = "/v2/models/iris/"
SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
CLASSES = {"setosa", "versicolor", "virginica"}
# A few epochs are plenty where the accuracy does not matter: keeps the tests quick.
QUICK = {"epochs": 3}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPAAS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DEEPAAS_PROGRESS_FD", raising=False)
    monkeypatch.setattr(api, "_CACHE", store.ModelCache())
    return tmp_path


@pytest.fixture
def model(data_dir):
    return ModelWrapper("iris", api, SOURCE)


def _query(query):
    return margs.Sources(query={k: [str(v)] for k, v in query.items()})


def _train(model, **query):
    """Train as the server would: the query parsed by the module's own train args."""
    kwargs = margs.parse(model.train_args, _query(query))
    return api.train(**kwargs)


def _predict(model, **query):
    kwargs = margs.parse(model.predict_args, _query(query))
    return api.predict(**kwargs)


# --- discovery, metadata, arguments -------------------------------------------------------------

def test_entry_point_is_installed():
    found, _ = discover()
    assert found["iris"][0] == SOURCE


def test_metadata_says_whether_a_model_is_trained(model):
    before = model.metadata()
    assert before["name"] == "iris" and before["trained"] is False
    assert "accuracy" not in before
    for key in ("description", "version", "author", "license"):
        assert isinstance(before[key], str) and before[key]
    result = _train(model, **QUICK)
    after = model.metadata()
    assert after["trained"] is True
    assert after["accuracy"] == result["accuracy"] and after["trained_at"] == result["trained_at"]


def test_train_args_have_defaults_ranges_and_choices(model):
    assert margs.parse(model.train_args, margs.Sources()) == {
        "epochs": 30, "learning_rate": 0.1, "alpha": 0.0001, "penalty": "l2",
        "test_size": 0.2, "seed": 42}
    for query in ({"epochs": ["0"]}, {"penalty": ["l3"]}, {"test_size": ["0.9"]},
                  {"learning_rate": ["0"]}):
        with pytest.raises(InvalidInput) as info:
            margs.parse(model.train_args, margs.Sources(query=query))
        assert list(info.value.messages) == list(query)


def test_predict_args_are_four_measurements(model):
    fields = model.predict_args.fields
    assert set(fields) == set(SETOSA)
    assert all("centimetres" in field.metadata["description"] for field in fields.values())
    with pytest.raises(InvalidInput):
        margs.parse(model.predict_args, margs.Sources(query={"petal_width": ["-1"]}))


# --- predict before and after training ----------------------------------------------------------

def test_predict_before_training_is_a_conflict(model):
    with pytest.raises(web.HTTPConflict) as info:
        _predict(model, **SETOSA)
    assert "POST /v2/models/iris/train/" in info.value.reason
    api.warm()  # nothing to load yet, and no error either


def test_default_training_is_accurate_and_saved(model, data_dir, capsys):
    started = time.monotonic()
    result = _train(model)
    assert time.monotonic() - started < 2
    assert result["epochs"] == 30
    assert result["accuracy"] > 0.8 and result["val_accuracy"] > 0.8
    assert 0 < result["loss"] < 1
    folder = data_dir / "models" / "iris"
    assert result["model_path"] == str(folder / "model.pkl")
    assert sorted(os.listdir(folder)) == ["metrics.json", "model.pkl"]  # no temporary left over
    saved = json.loads((folder / "metrics.json").read_text())
    assert saved["val_accuracy"] == result["val_accuracy"]
    assert saved["hyper_parameters"]["penalty"] == "l2" and saved["trained_at"]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch 1/30 loss=") and len(lines) == 31


def test_prediction_uses_the_trained_model(model):
    _train(model)
    answer = _predict(model, **SETOSA)
    assert answer["label"] == "setosa"
    assert set(answer["probabilities"]) == CLASSES
    assert math.isclose(sum(answer["probabilities"].values()), 1.0, abs_tol=1e-4)
    assert answer["probabilities"]["setosa"] == max(answer["probabilities"].values())
    assert answer["model"]["accuracy"] > 0.8
    assert _predict(model)["label"] in CLASSES  # the defaults are a valid flower too


def test_a_new_training_is_picked_up_without_restarting(model, monkeypatch):
    loads = []
    real_load = store._load
    monkeypatch.setattr(store, "_load", lambda path: loads.append(path) or real_load(path))
    first = _train(model, **QUICK)
    _predict(model, **SETOSA)
    assert _predict(model, **SETOSA)["model"]["trained_at"] == first["trained_at"]
    assert len(loads) == 1  # cached while the file stays the same
    second = _train(model, epochs=5, penalty="none", seed=7)
    answer = _predict(model, **SETOSA)
    assert answer["model"]["trained_at"] == second["trained_at"] != first["trained_at"]
    assert answer["model"]["hyper_parameters"]["penalty"] == "none"
    assert len(loads) == 2
    assert model.metadata()["hyper_parameters"]["seed"] == 7


def test_warm_loads_the_model_on_disk(model, monkeypatch):
    _train(model, **QUICK)
    fresh = store.ModelCache()  # as in a server process started after the training
    monkeypatch.setattr(api, "_CACHE", fresh)
    api.warm()
    assert fresh._trained is not None


def test_predictions_never_see_a_half_written_model(model):
    _train(model, **QUICK)
    errors, stop = [], threading.Event()

    def keep_predicting():
        while not stop.wait(0.001):  # the pause lets the training have the GIL too
            try:
                assert _predict(model, **SETOSA)["label"] in CLASSES
            except Exception as exc:  # collected and reported below
                errors.append(exc)

    readers = [threading.Thread(target=keep_predicting) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for seed in range(5):
            _train(model, epochs=2, seed=seed)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert errors == []


# --- progress -----------------------------------------------------------------------------------

def test_training_reports_progress_each_epoch(model, monkeypatch):
    read_end, write_end = os.pipe()
    try:
        monkeypatch.setenv("DEEPAAS_PROGRESS_FD", str(write_end))
        _train(model, epochs=4)
        os.close(write_end)
        write_end = -1
        with os.fdopen(read_end, "rb") as reader:
            read_end = -1
            reports = [json.loads(line) for line in reader.read().splitlines()]
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    assert [(r["step"], r["total"]) for r in reports] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    for r in reports:
        assert set(r["metrics"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(isinstance(v, float) for v in r["metrics"].values())


# --- over HTTP ----------------------------------------------------------------------------------

async def test_http_conflict_then_prediction(serve, model, data_dir):
    # The server points DEEPAAS_DATA_DIR at its own data dir: use the test's one.
    client = await serve(Registry.of(model), data_dir=str(data_dir))
    resp = await client.post(URL + "predict/", params=SETOSA)
    assert resp.status == 409 and "POST /v2/models/iris/train/" in resp.reason
    await asyncio.to_thread(_train, model, **QUICK)
    resp = await client.post(URL + "predict/", params=SETOSA)
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "OK" and body["predictions"]["label"] in CLASSES
    meta = await (await client.get(URL)).json()
    assert meta["trained"] is True


async def test_http_training_in_its_own_process_is_used_by_predict(serve, model, data_dir):
    client = await serve(Registry.of(model), data_dir=str(data_dir))
    resp = await client.post(URL + "train/", params={"epochs": "20", "penalty": "l1"})
    assert resp.status == 200
    job = await poll_job(client, URL + "train/", (await resp.json())["uuid"])
    assert job["status"] == "done", job
    output = job["result"]["output"]
    assert output["epochs"] == 20 and output["val_accuracy"] > 0.8
    assert [m["step"] for m in job["metrics"]] == list(range(1, 21))
    # trained in another process: this one finds the new file on disk
    body = await (await client.post(URL + "predict/", params=SETOSA)).json()
    assert body["predictions"]["model"]["trained_at"] == output["trained_at"]
    assert body["predictions"]["model"]["hyper_parameters"]["penalty"] == "l1"

"""Our answers where the corpus fixtures mirroring ai4os / ai4os-hub modules are meant to differ.

The replay test (``test_reference_answers.py``) holds the cases named "DIFFER intended" to the
answer each case file gives as ours; the
reference answers them wrongly (the text "Server got itself in trouble" for a module's error or
a response it cannot serialise, a 422 for an argument the contract says is never read). Each such
case is checked here against what we answer. A few behaviours the reference cannot be recorded
for at all (it hangs on an HTTPException raised by a module; it cannot list a training whose
result is a set) are checked here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import poll_job

pytest.importorskip("deepaas_corpus", reason="make test installs tests/compat/corpus")

FILES = Path(__file__).parent / "corpus" / "files"
JSON = {"Accept": "application/json"}
SHARK = "affable-shark \U0001f988"


def _form(**uploads: tuple[str, str]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for field, (name, content_type) in uploads.items():
        form.add_field(field, (FILES / name).read_bytes(), filename=name,
                       content_type=content_type)
    return form


async def _error(resp: Any, status: int = 500) -> str:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


# --- a module's own error in predict: the reference answers a text 500 -----------------------


@pytest.mark.parametrize("model, field, upload, params, accept, says", [
    # parser tables with no entry for */*, which DEEPaaS adds to the accept choices
    ("obsea_fish_detection", "input_file", ("fish.jpg", "image/jpeg"), {}, "*/*",
     "KeyError"),
    ("ai4life_loader", "input_file", ("drift.npy", "application/octet-stream"),
     {"model_name": SHARK}, "*/*", "KeyError"),
    # the module checks the uploaded file's name
    ("thermal_anomaly_segmenter", "input_file", ("fish.jpg", "image/jpeg"),
     {"model_dir": "/tmp"}, "application/json", "is not a .npy.lz4"),
    # the module reads an octet-stream upload's path as bytes
    ("litter_assessment", "files", ("drift.npy", "application/octet-stream"), {},
     "application/zip", "TypeError"),
])
async def test_module_error_in_predict_is_a_json_500(client_of, model, field, upload, params,
                                                     accept, says):
    client = await client_of(model)
    resp = await client.post("/v2/models/%s/predict/" % model, params=params,
                             data=_form(**{field: upload}), headers={"Accept": accept})
    message = await _error(resp)
    assert model in message and says in message


async def test_range_validator_on_a_string_field_is_a_json_500(client_of):
    # demo-advanced declares ``version`` a string validated with Range(min=1): comparing the
    # string with 1 raises TypeError while the arguments are loaded, before predict runs
    client = await client_of("demo_advanced")
    resp = await client.post("/v2/models/demo_advanced/predict/",
                             params={"model_name": "digits", "version": "2"},
                             data=_form(input_file=("drift.npy", "application/octet-stream")),
                             headers=JSON)
    assert "TypeError" in await _error(resp)
    # the same request without the bad argument is served
    resp = await client.post("/v2/models/demo_advanced/predict/", params={"model_name": "d"},
                             data=_form(input_file=("drift.npy", "application/octet-stream")),
                             headers=JSON)
    assert resp.status == 200


async def test_response_failing_the_schema_class_is_a_json_500(client_of):
    client = await client_of("eyeonwater_yolo")
    resp = await client.post("/v2/models/eyeonwater_yolo/predict/",
                             data=_form(image=("notes.txt", "text/plain")))
    message = await _error(resp)
    assert "eyeonwater_yolo" in message and "schema" in message and "error" in message
    # a conforming answer is sent as the module returned it (no status/predictions wrapper)
    resp = await client.post("/v2/models/eyeonwater_yolo/predict/",
                             data=_form(image=("images.zip", "application/zip")))
    assert resp.status == 200
    body = await resp.json()
    assert [p["file_name"] for p in body["predictions"]] == ["fish.jpg", "plankton.png"]
    assert body["model_used"] == "best.pt"


@pytest.mark.parametrize("params, accept", [
    ({}, "*/*"),
    # accept is located in the headers: the query value is not read
    ({"accept": "application/zip"}, "*/*"),
])
async def test_returned_file_asked_as_json_is_a_json_500(client_of, params, accept):
    client = await client_of("litter_assessment")
    resp = await client.post("/v2/models/litter_assessment/predict/", params=params,
                             data=_form(files=("plankton.png", "image/png")),
                             headers={"Accept": accept})
    message = await _error(resp)
    assert "litter_assessment" in message and "JSON" in message


# --- dump_only arguments: the reference rejects them as unknown, the contract never reads them --


@pytest.mark.parametrize("extra_params, extra_upload", [
    ({"box_prompts": "[[[0, 0, 10, 10]]]"}, None),
    ({}, ("mask_prompts", "plankton.png", "image/png")),
])
async def test_dump_only_arguments_are_not_read(client_of, extra_params, extra_upload):
    client = await client_of("ai4life_loader")
    url = "/v2/models/ai4life_loader/predict/"
    uploads = {"input_file": ("drift.npy", "application/octet-stream")}
    plain = await client.post(url, params={"model_name": SHARK}, data=_form(**uploads),
                              headers=JSON)
    assert plain.status == 200
    if extra_upload:
        uploads[extra_upload[0]] = extra_upload[1:]
    resp = await client.post(url, params={"model_name": SHARK, **extra_params},
                             data=_form(**uploads), headers=JSON)
    assert resp.status == 200, await resp.text()
    assert await resp.json() == await plain.json()


async def test_dump_only_arguments_are_not_in_the_spec(client_of):
    client = await client_of("ai4life_loader")
    spec = await (await client.get("/swagger.json")).json()
    names = [p["name"] for p in spec["paths"]["/v2/models/ai4life_loader/predict/"]["post"]
             ["parameters"]]
    assert names[:3] == ["model_name", "input_file", "accept"]
    assert not {"box_prompts", "mask_prompts", "embeddings", "point_prompts",
                "point_labels"} & set(names)


# --- what the reference cannot be recorded for ---------------------------------------------------


async def test_http_exception_raised_by_a_module_keeps_its_status(client_of):
    # zooprocess wraps every error in HTTPBadRequest(reason=...): the reference hangs on it
    client = await client_of("zooprocess_multiple_classifier")
    form = aiohttp.FormData()
    form.add_field("images", b"PK\x03\x04 not really a zip", filename="broken.zip",
                   content_type="application/zip")
    resp = await client.post("/v2/models/zooprocess_multiple_classifier/predict/", data=form)
    assert resp.status == 400
    assert "zip" in (resp.reason or "") + await resp.text()


async def test_training_returning_a_set_is_done_with_a_list(client_of):
    # ai4os-yolov8-torch's train() returns a set literal holding one message
    client = await client_of("yolov8_torch")
    url = "/v2/models/yolov8_torch/train/"
    resp = await client.post(url, params={"model": "yolov8n.pt", "task_type": "seg"})
    assert resp.status == 200
    started = await resp.json()
    job = await poll_job(client, url, started["uuid"])
    assert job["status"] == "done", job
    assert job["result"]["output"] == [
        "The model was trained successfully and was saved to: yolov8_api/models/yolov8n-seg.pt"]
    listing = await (await client.get(url)).json()
    assert [j["status"] for j in listing] == ["done"]

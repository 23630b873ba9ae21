"""Our answers where the corpus fixtures mirroring deephdc modules are meant to differ.

The replay test (``test_reference_answers.py``) holds the cases named "DIFFER intended" to the
answer each case file gives as ours; the
reference answers them wrongly (a text 500 where a module's error should be said in JSON, a 500
for a value JSON cannot hold, ...). Each such case is checked here against what we answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import poll_job

pytest.importorskip("deepaas_corpus", reason="make test installs tests/compat/corpus")

FILES = Path(__file__).parent / "corpus" / "files"


def _upload(field: str, name: str, content_type: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(field, (FILES / name).read_bytes(), filename=name, content_type=content_type)
    return form


async def _error(resp: Any, status: int = 500) -> str:
    assert resp.status == status
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


# --- modules that re-raise any error as HTTPBadRequest(reason=<exception>) ---------------------
# aiohttp refuses a reason that is not a string (TypeError), so these end in a 500: the reference
# answers the text "Server got itself in trouble", we answer JSON naming the model and the error.


async def test_dogs_breed_det_without_image_or_url_is_a_json_500(client_of):
    client = await client_of("dogs_breed_det")
    resp = await client.post("/v2/models/dogs_breed_det/predict/")
    message = await _error(resp)
    assert "dogs_breed_det" in message and "TypeError" in message


async def test_dogs_breed_det_module_deleting_its_upload_is_fine(client_of, tmp_path):
    client = await client_of("dogs_breed_det")
    resp = await client.post("/v2/models/dogs_breed_det/predict/",
                             data=_upload("data", "hdc_dog.jpg", "image/jpeg"))
    assert resp.status == 200
    assert (await resp.json())["predictions"][0]["image"] == "hdc_dog.jpg"
    assert list(tmp_path.iterdir()) == []


async def test_demo_app_dict_that_is_not_json_is_a_json_500(client_of):
    client = await client_of("demo_app")
    resp = await client.post("/v2/models/demo_app/predict/", params={"demo-dict": "{a: 1"})
    assert "demo_app" in await _error(resp)


async def test_demo_app_answer_failing_its_schema_says_why(client_of):
    client = await client_of("demo_app")
    resp = await client.post("/v2/models/demo_app/predict/", params={"demo-dict": "[1, 2]"})
    message = await _error(resp)
    assert "schema" in message and "demo-dict" in message


# --- answers JSON cannot hold, asked for as JSON (accept */*) ---------------------------------
# The reference fails to serialise them after the module ran (a text 500); we say what was wrong.


async def test_fasterrcnn_buffer_asked_as_json_says_so(client_of):
    client = await client_of("fasterrcnn_pytorch_api")
    resp = await client.post("/v2/models/fasterrcnn_pytorch_api/predict/",
                             data=_upload("input", "hdc_cat.png", "image/png"),
                             headers={"Accept": "*/*"})
    message = await _error(resp)
    assert "BytesIO" in message and "JSON" in message


async def test_fasterrcnn_accept_header_chooses_the_media_type(client_of):
    client = await client_of("fasterrcnn_pytorch_api")
    resp = await client.post("/v2/models/fasterrcnn_pytorch_api/predict/",
                             data=_upload("input", "hdc_cat.png", "image/png"),
                             headers={"Accept": "image/png"})
    assert resp.status == 200 and resp.content_type == "image/png"
    assert (await resp.read()).startswith(b"\x89PNG")


async def test_neural_transfer_open_file_asked_as_json_says_so(client_of):
    client = await client_of("neural_transfer")
    resp = await client.post("/v2/models/neural_transfer/predict/", params={"accept": "*/*"},
                             data=_upload("image_content", "hdc_cat.png", "image/png"))
    message = await _error(resp)
    assert "neural_transfer" in message and "JSON" in message


async def test_neural_transfer_without_an_image_is_a_json_500(client_of):
    client = await client_of("neural_transfer")
    resp = await client.post("/v2/models/neural_transfer/predict/")
    message = await _error(resp)
    assert "TypeError" in message


async def test_obj_detect_pytorch_bad_threshold_is_a_json_500_with_the_module_message(client_of):
    client = await client_of("obj_detect_pytorch")
    resp = await client.post("/v2/models/obj_detect_pytorch/predict/",
                             params={"threshold": "high", "accept": "application/json"},
                             data=_upload("files", "hdc_dog.jpg", "image/jpeg"))
    message = await _error(resp)
    assert "Failed parsing the input values" in message


# --- predict wrapped by a decorator without functools.wraps -----------------------------------
# The reference pickles the module's predict to send it to a worker process; a function named
# ``_catch_error.<locals>.call`` cannot be pickled, so every prediction is a text 500 there.
# We run the module as it is.

IMGCLAS = "/v2/models/image_classification_tf/predict/"


async def test_image_classification_tf_predicts_an_upload(client_of, tmp_path):
    client = await client_of("image_classification_tf")
    resp = await client.post(IMGCLAS, data=_upload("data", "hdc_cat.png", "image/png"))
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "OK" and body["predictions"]["status"] == "ok"
    found = body["predictions"]["predictions"]
    assert len(found) == 3
    assert all(isinstance(p["label_id"], int) and isinstance(p["probability"], float)
               for p in found)
    assert found[0]["info"]["links"]["Wikipedia"].startswith("https://en.wikipedia.org/wiki/")
    assert list(tmp_path.iterdir()) == []  # the module deleted its upload; nothing left


async def test_image_classification_tf_reads_json_dumped_options(client_of):
    client = await client_of("image_classification_tf")
    plain = await (await client.post(
        IMGCLAS, data=_upload("data", "hdc_dog.jpg", "image/jpeg"))).json()
    other = await client.post(IMGCLAS, params={"timestamp": '"2019-02-10_093000"',
                                               "ckpt_name": '"epoch_10.h5"'},
                              data=_upload("data", "hdc_dog.jpg", "image/jpeg"))
    assert other.status == 200
    assert (await other.json())["predictions"] != plain["predictions"]  # the timestamp counts


async def test_image_classification_tf_url_in_a_json_body(client_of):
    client = await client_of("image_classification_tf")
    resp = await client.post(IMGCLAS, json={"urls": "https://example.org/tree.png",
                                            "ckpt_name": '"other.h5"'})
    assert resp.status == 200
    assert len((await resp.json())["predictions"]["predictions"]) == 3


async def test_image_classification_tf_form_file_is_not_read_from_the_query(client_of):
    client = await client_of("image_classification_tf")
    url = "https://example.org/leaf.jpg"
    alone = await (await client.post(IMGCLAS, params={"urls": url})).json()
    resp = await client.post(IMGCLAS, params={"data": "from-the-query", "urls": url})
    assert resp.status == 200  # with the query value taken as the file, both would be given
    assert await resp.json() == alone


async def test_image_classification_tf_upload_beats_a_query_value(client_of):
    client = await client_of("image_classification_tf")
    alone = await (await client.post(
        IMGCLAS, data=_upload("data", "hdc_cat.png", "image/png"))).json()
    resp = await client.post(IMGCLAS, params={"data": "from-the-query"},
                             data=_upload("data", "hdc_cat.png", "image/png"))
    assert resp.status == 200
    assert await resp.json() == alone


async def test_image_classification_tf_module_errors_are_json_500s(client_of):
    client = await client_of("image_classification_tf")
    resp = await client.post(IMGCLAS, data=_upload("data", "hdc_notes.txt", "text/plain"))
    assert "TypeError" in await _error(resp)  # HTTPBadRequest(reason=<ValueError>)
    resp = await client.post(IMGCLAS, params={"urls": "https://example.org/leaf.jpg"},
                             data=_upload("data", "hdc_cat.png", "image/png"))
    assert "image_classification_tf" in await _error(resp)


async def test_benchmarks_cnn_api_predict_runs(client_of):
    client = await client_of("benchmarks_cnn_api")
    path = "/v2/models/benchmarks_cnn_api/predict/"
    resp = await client.post(path, data=_upload("data", "hdc_dog.jpg", "image/jpeg"))
    assert resp.status == 200
    assert await resp.json() == {"status": "OK",
                                 "predictions": {"Error": "Not implemented (predict_file())"}}
    resp = await client.post(path, params={"urls": "https://example.org/img.jpg"})
    assert resp.status == 200
    assert (await resp.json())["predictions"] == {"Error": "Not implemented (predict_url())"}


# --- other module errors: a JSON 500 where the reference answers text ------------------------


async def test_semseg_vaihingen_unsupported_file_type(client_of):
    client = await client_of("semseg_vaihingen")
    resp = await client.post("/v2/models/semseg_vaihingen/predict/",
                             data=_upload("files", "hdc_notes.txt", "text/plain"))
    assert "Image format error" in await _error(resp)


async def test_adnaneds_unet_without_data(client_of):
    client = await client_of("adnaneds_unet")
    resp = await client.post("/v2/models/adnaneds_unet/predict/", params={"accept": "*/*"},
                             data=_upload("demo-image", "hdc_tile.png", "image/png"))
    assert "adnaneds_unet" in await _error(resp)


async def test_adnaneds_unet_accept_header_is_honoured(client_of):
    client = await client_of("adnaneds_unet")
    resp = await client.post("/v2/models/adnaneds_unet/predict/",
                             headers={"Accept": "application/zip"},
                             data=_upload("data", "hdc_images.zip", "application/zip"))
    assert resp.status == 200 and resp.content_type == "application/zip"
    assert (await resp.read()).startswith(b"PK")


# --- values JSON cannot hold in a training record ---------------------------------------------


async def test_mods_training_record_with_a_time_range_object(client_of):
    # The custom field turns the value into a TimeRange object. The reference starts the
    # training, then fails to write its record (a text 500) and every later listing with it;
    # ours trains with the object and the record shows its text.
    client = await client_of("mods")
    url = "/v2/models/mods/train/"
    resp = await client.post(url, params={"train_time_range": "<2019-01-01,2019-02-01)"})
    assert resp.status == 200, await resp.text()
    record = await poll_job(client, url, (await resp.json())["uuid"])
    assert record["args"]["train_time_range"] == "<2019-01-01,2019-02-01)"
    assert record["status"] == "done", record
    assert record["result"]["output"]["train_time_range"] == "<2019-01-01,2019-02-01)"
    listing = await client.get(url)
    assert listing.status == 200 and [j["uuid"] for j in await listing.json()] == [record["uuid"]]

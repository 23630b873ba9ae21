"""Our answers where the corpus fixtures mirroring deephdc modules are meant to differ.

The replay test (``test_reference_answers.py``) skips the cases named "DIFFER intended": the
reference answers them wrongly (a text 500 where a module's error should be said in JSON, a 500
for a value JSON cannot hold, ...). Each such case is checked here against what we answer.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper

pytest.importorskip("deepaas_corpus", reason="make test installs tests/compat/corpus")

FILES = Path(__file__).parent / "corpus" / "files"


@pytest.fixture
def client_of(serve: Any) -> Any:
    """``await client_of("demo_app")`` -> a test client serving that corpus fixture."""
    sources = {ep.name: ep.value for ep in metadata.entry_points(group="deepaas.v2.model")}

    async def make(name: str) -> Any:
        return await serve(Registry.of(ModelWrapper(name, resolve(sources[name]), sources[name])))

    return make


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

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

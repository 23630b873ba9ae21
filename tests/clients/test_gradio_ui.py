"""The Gradio UI of AI4OS (ai4os/deepaas_ui) built from our swagger.json, for every module of
the corpus: the same interface as built from 2.6.0's, and a prediction sent as it sends one
shows what the module answered. ``gradio_reading`` says what the UI reads and sends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest

from tests.clients import gradio_reading as ui
from tests.clients.corpus import MODELS, reference_spec

pytest.importorskip("compatmod", reason="make test installs tests/compat/compatmod")
pytest.importorskip("deepaas_corpus", reason="make test installs tests/compat/corpus")
FILES = Path(__file__).parents[1] / "compat" / "corpus" / "files"

# Where the interfaces differ, and why. A ``schema`` that is a marshmallow Schema class is
# named by 2.6.0 after the class ("Response", "Schema"), so the UI finds no
# ModelPredictionResponse and shows the raw JSON answer's "predictions" (compatcls answers none:
# the 2.6.0 UI fails on it); CONTRACT.md section 5 says the definition is ModelPredictionResponse
# whenever the module has a schema, so ours shows one output per field of the schema.
SCHEMA_CLASS = {"eyeonwater_yolo": ["predictions", "timestamp", "model_used"],
                "compatcls": ["label", "score"]}
# The UI has no tab for a text/plain answer and stops: on both servers alike.
NO_UI = {"compatmod": "UIError: DEEPaaS API output MIME not supported for Gradio rendering: "
                      "text/plain"}


def _built(spec: dict[str, Any]) -> Any:
    try:
        return ui.tabs(spec)
    except ui.UIError as exc:  # the UI cannot be built: the same failure is expected of both
        return "UIError: %s" % exc


def _names(spec: dict[str, Any]) -> list[str]:
    return [p["name"] for p in spec["paths"][ui.predict_path(spec)]["post"]["parameters"]]


async def _our_spec(client: Any) -> dict[str, Any]:
    resp = await client.get("/swagger.json")
    assert resp.status == 200
    return dict(await resp.json())


@pytest.mark.parametrize("model", MODELS)
async def test_interface_is_the_one_built_from_2_6_0(client_of, model):
    spec, reference_doc = await _our_spec(await client_of(model)), reference_spec(model)
    # api_call pairs the values with the parameters by position, accept included
    assert _names(spec) == _names(reference_doc)
    ours, reference = _built(spec), _built(reference_doc)
    if model in NO_UI:
        assert ours == reference == NO_UI[model]
        return
    assert isinstance(ours, list) and ours, ours
    if model in SCHEMA_CLASS:
        json_tab = reference[0]
        assert (json_tab["mime"], json_tab["schema"], json_tab["outputs"]) == (
            "application/json", False, {"kind": "json"})
        assert [o["label"] for o in ours[0]["outputs"]] == SCHEMA_CLASS[model]
        json_tab.update(schema=True, outputs=ours[0]["outputs"])
    assert ours == reference


@pytest.mark.parametrize("model", ["demo_app", "obj_detect_pytorch"])
async def test_metadata_is_found_where_the_ui_asks(client_of, model):
    # the UI asks f"{api_url}/{Path(path).parent}/": a double slash after the host
    client = await client_of(model)
    url = client.make_url("/").with_path("//v2/models/%s/" % model, encoded=True)
    resp = await client.session.get(url)
    assert resp.status == 200 and resp.url.path == "/v2/models/%s/" % model
    metadata = await resp.json()
    assert metadata["name"] and isinstance(metadata.get("description", ""), str)


def _form(files: dict[str, tuple[str, bytes, str | None]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, (filename, content, media) in files.items():
        form.add_field(name, content, filename=filename, content_type=media)
    return form


async def _send(client: Any, sent: dict[str, Any]) -> Any:
    """POST as requests does: to the unslashed path, then again (same body) where the 308
    points, the query kept."""
    resp = await client.post(sent["path"], params=sent["query"], headers=sent["headers"],
                             data=_form(sent["files"]), allow_redirects=False)
    assert resp.status == 308, await resp.text()
    location = urlsplit(resp.headers["Location"])
    assert location.path == sent["path"] + "/"
    assert parse_qsl(location.query) == sent["query"]
    return await client.post(resp.headers["Location"], headers=sent["headers"],
                             data=_form(sent["files"]), allow_redirects=False)


async def test_prediction_sent_as_the_ui_sends_it_shows_every_output(client_of, tmp_path):
    client = await client_of("demo_app")
    spec = await _our_spec(client)
    [tab] = ui.tabs(spec)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42 not much of a video")
    values = {"demo-str": "hello", "demo-str-choice": "choice1", "demo-int": 7.0,
              "demo-int-range": 42.0, "demo-float": 0.5, "demo-bool": False,
              "demo-dict": '{"k": [1, 2]}', "demo-list-of-floats": "0.5, 1.5",
              "demo-image": FILES / "hdc_cat.png", "demo-audio": FILES / "hdc_sound.wav",
              "demo-video": video}
    sent = ui.request(spec, tab["mime"], values)
    assert ("demo-list-of-floats", "1.5") in sent["query"] and ("accept", tab["mime"]) in sent[
        "query"]
    assert sent["files"]["demo-image"][2] == "image/png"
    resp = await _send(client, sent)
    shown = ui.shown(tab, resp.status, await resp.read())
    assert shown == ["hello", "choice1", 7, 42, 0.5, False, {"k": [1, 2]}, [0.5, 1.5],
                     (FILES / "hdc_cat.png").read_bytes(),
                     (FILES / "hdc_sound.wav").read_bytes(), video.read_bytes(),
                     {"class2": 5 / 15, "class3": 4 / 15, "class0": 3 / 15, "class1": 2 / 15,
                      "class4": 1 / 15}]
    assert [o["label"] for o in tab["outputs"]][-1] == "classification scores"


async def test_a_module_error_is_shown_as_the_answer_s_text(client_of):
    client = await client_of("demo_app")
    spec = await _our_spec(client)
    [tab] = ui.tabs(spec)
    # every input left as shown but the dict, which demo_app cannot load; the list's default is
    # shown as "[0.1, 0.2, 0.3]" and sent as one value, so it is filled in as the UI expects
    sent = ui.request(spec, tab["mime"], {"demo-dict": "{not json",
                                          "demo-list-of-floats": "0.1, 0.2"})
    resp = await _send(client, sent)
    with pytest.raises(ui.UIError) as raised:
        ui.shown(tab, resp.status, await resp.read())
    assert resp.status == 500 and "demo_app" in str(raised.value)


async def test_an_image_tab_shows_the_answer_s_bytes(client_of):
    # only the file is filled in: the text boxes send their shown defaults ("COCO", "0.8", ...)
    client = await client_of("obj_detect_pytorch")
    spec = await _our_spec(client)
    tab = next(t for t in ui.tabs(spec) if t["mime"] == "image/png")
    assert tab["outputs"] == {"kind": "image"}
    sent = ui.request(spec, tab["mime"], {"files": FILES / "hdc_dog.jpg"})
    assert ("threshold", "0.8") in sent["query"]
    resp = await _send(client, sent)
    assert resp.status == 200 and resp.content_type == "image/png"
    assert ui.shown(tab, resp.status, await resp.read()).startswith(b"\x89PNG")

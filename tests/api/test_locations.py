"""Arguments read where their module says (webargs 5.5.3's ``location``), over HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from deepaas.api.spec import openapi, swagger
from deepaas.config import Settings
from deepaas.model.args import build_argspec
from deepaas.model.loading import Registry
from tests.conftest import wrapper
from tests.helpers import poll_job

URL = "/v2/models/locations/predict/"


def _upload(name: str = "img", body: bytes = b"pixels", **text: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(name, body, filename="cat.png", content_type="image/png")
    for key, value in text.items():
        form.add_field(key, value)
    return form


async def test_upload_wins_over_a_query_value_of_the_same_name(make_client):
    client = await make_client("locations")
    resp = await client.post(URL, params={"img": "foo"}, data=_upload())
    assert resp.status == 200, await resp.text()
    got = (await resp.json())["predictions"]
    assert got["img"] == ["file", "cat.png", "pixels"]


@pytest.mark.parametrize("how", ["query", "json"])
async def test_form_file_sent_elsewhere_is_missing(make_client, how):
    client = await make_client("locations")
    if how == "query":
        resp = await client.post(URL, params={"img": "foo"})
    else:
        resp = await client.post(URL, json={"img": "foo"})
    assert resp.status == 422
    assert await resp.json() == {"img": ["Missing data for required field."]}


async def test_each_field_read_from_its_location_only(make_client):
    client = await make_client("locations")
    client.session.cookie_jar.update_cookies({"c": "cookie"})
    query = [("q", "from-query"), ("qs", "3"), ("f", "query-f"), ("X-Token", "query-token"),
             ("c", "query-c"), ("plain", "query-plain")]
    headers = {"X-Token": "secret", "q": "header-q"}
    form = _upload(q="form-q", f="form-f", plain="form-plain", j="form-j")
    resp = await client.post(URL, params=query, data=form, headers=headers)
    assert resp.status == 200, await resp.text()
    got = (await resp.json())["predictions"]
    assert got == {"img": ["file", "cat.png", "pixels"], "q": ["str", "from-query"],
                   "qs": ["int", 3], "f": ["str", "form-f"], "token": ["str", "secret"],
                   "c": ["str", "cookie"], "plain": ["str", "query-plain"]}


async def test_headers_are_case_blind_and_lists_take_every_header(make_client):
    client = await make_client("locations")
    headers = [("x-token", "t"), ("ids", "1"), ("ids", "2")]
    resp = await client.post(URL, data=_upload(), headers=headers)
    got = (await resp.json())["predictions"]
    assert got["token"] == ["str", "t"] and got["ids"] == ["list", [1, 2]]


async def test_json_fields_come_from_the_json_body_only(make_client):
    client = await make_client("locations")
    # a JSON body cannot carry the upload: img is missing, and the JSON fields were read
    # (one JSON value for a list is a list of one item, checked, as DEEPaaS 2.6.0 read it)
    resp = await client.post(URL, params={"j": "query-j"}, json={"j": "x", "nums": "bad"})
    assert resp.status == 422
    assert await resp.json() == {"img": ["Missing data for required field."],
                                 "nums": {"0": ["Not a valid integer."]}}


async def test_files_location_takes_uploads_not_text(make_client):
    client = await make_client("locations")
    form = aiohttp.FormData()
    form.add_field("upload", "just text")
    form.add_field("loose", b"bytes", filename="a.txt")
    resp = await client.post("/v2/models/locations/train/", params={"upload": "q"}, data=form)
    assert resp.status == 200, await resp.text()
    record = await poll_job(client, "/v2/models/locations/train/", (await resp.json())["uuid"])
    assert record["status"] == "done", record
    assert list(record["args"]) == ["loose"]
    assert record["result"]["output"] == {"loose": ["file", "a.txt", "bytes"]}


def test_an_unknown_location_is_refused_when_the_module_loads():
    from webargs import fields

    with pytest.raises(TypeError, match="argument 'x': location 'body' is not one of"):
        build_argspec({"x": fields.Str(location="body")})


def _params(doc, method="post", path="/v2/models/locations/predict/"):
    return doc["paths"][path][method]


def test_swagger_places_each_argument_where_it_is_read():
    doc = swagger(Settings(), Registry.of(wrapper("locations")))
    params = _params(doc)["parameters"]
    placed = [(p["in"], p["name"]) for p in params]
    assert placed == [("formData", "img"), ("query", "q"), ("query", "qs"), ("formData", "f"),
                      ("body", "body"), ("header", "X-Token"), ("header", "ids"),
                      ("query", "plain")]  # Swagger 2.0 has no cookie parameters
    body = params[4]["schema"]
    assert body["properties"]["nums"]["type"] == "array"
    assert params[0]["type"] == "file" and params[6]["collectionFormat"] == "multi"
    assert _params(doc)["consumes"] == ["multipart/form-data"]
    train = _params(doc, path="/v2/models/locations/train/")["parameters"]
    assert [(p["in"], p["name"]) for p in train] == [("formData", "upload"), ("formData", "loose"),
                                                     ("header", "DEEPaaS-Resources")]


def test_openapi_puts_form_and_json_in_the_request_body():
    doc = openapi(Settings(), Registry.of(wrapper("locations")))
    op = _params(doc)
    placed = [(p["in"], p["name"]) for p in op["parameters"]]
    assert placed == [("query", "q"), ("query", "qs"), ("header", "X-Token"), ("header", "ids"),
                      ("cookie", "c"), ("query", "plain")]
    form = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["img"]["format"] == "binary"
    assert form["properties"]["f"]["type"] == "string" and form["required"] == ["img"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"j", "nums"}


async def test_a_file_argument_without_location_takes_its_upload_over_text(make_client):
    client = await make_client("locations")
    form = aiohttp.FormData()
    form.add_field("loose", b"bytes", filename="a.txt")
    resp = await client.post("/v2/models/locations/train/", params={"loose": "text"}, data=form)
    record = await poll_job(client, "/v2/models/locations/train/", (await resp.json())["uuid"])
    assert record["result"]["output"] == {"loose": ["file", "a.txt", "bytes"]}
    # text alone is still read from where it stands (and refused: it is neither file nor URL)
    resp = await client.post("/v2/models/locations/train/", params={"loose": "text"})
    assert resp.status == 422 and list(await resp.json()) == ["loose"]

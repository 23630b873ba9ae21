"""Versions, models, slashes, base path, debug: the routes of the contract's section 3."""

from __future__ import annotations

import sys

from deepaas.debug import DebugCapture

V2 = {"version": "stable", "id": "v2",
      "links": [{"rel": "self", "type": "application/json", "href": "/v2/"}]}


async def test_root_lists_versions(make_client):
    client = await make_client("basic")
    resp = await client.get("/")
    assert resp.status == 200
    assert await resp.json() == {
        "versions": [V2],
        "links": [{"rel": "help", "type": "text/html", "href": "/api"},
                  {"rel": "describedby", "type": "application/json", "href": "/swagger.json"}]}
    assert await (await client.get("/v2/")).json() == V2


async def test_models_listing_merges_metadata(make_client):
    client = await make_client("basic", "bare", "klass")
    body = await (await client.get("/v2/models/")).json()
    by_name = {m["name"]: m for m in body["models"]}
    assert by_name["basic"] == {"id": "basic-id", "name": "basic",
                                "links": [{"rel": "self", "href": "/v2/models/basic"}],
                                "description": "a fake", "version": "0.1"}
    assert by_name["bare"] == {
        "id": "0", "name": "bare", "links": [{"rel": "self", "href": "/v2/models/bare"}],
        "description": "Could not load description from underlying model (loaded 'bare')"}
    assert by_name["klass"]["description"] == "class entry point"


async def test_model_metadata_and_not_implemented_fallback(make_client):
    client = await make_client("basic", "notimpl")
    resp = await client.get("/v2/models/basic/")
    assert resp.status == 200 and (await resp.json())["description"] == "a fake"
    meta = await (await client.get("/v2/models/notimpl/")).json()
    assert meta["id"] == "0" and meta["name"] == "notimpl"


async def test_unknown_model_and_route_are_plain_404(make_client):
    client = await make_client("basic")
    for path in ("/v2/models/nope/", "/v3/", "/v2/models/nope/predict/"):
        resp = await client.get(path)
        assert resp.status == 404
        assert await resp.text() == "404: Not Found"


async def test_missing_slash_and_repeated_slashes_redirect(make_client):
    client = await make_client("basic")
    for path, target in (("/v2", "/v2/"), ("/v2/models/basic", "/v2/models/basic/"),
                         ("///v2//models/", "/v2/models/")):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 308, path
        assert resp.headers["Location"] == target
    resp = await client.get("///v2//models/")
    assert resp.status == 200


async def test_base_path_prefixes_routes_and_links(make_client):
    client = await make_client("basic", base_path="/x")
    assert (await client.get("/v2/")).status == 404
    root = await (await client.get("/x/")).json()
    assert root["versions"][0]["links"][0]["href"] == "/x/v2/"
    assert root["links"][1]["href"] == "/x/swagger.json"
    models = await (await client.get("/x/v2/models/")).json()
    assert models["models"][0]["links"][0]["href"] == "/x/v2/models/basic"
    resp = await client.post("/x/v2/models/basic/predict/", params={"n": "1"})
    assert resp.status == 200


async def test_debug_endpoint_is_204_when_disabled(make_client):
    client = await make_client("basic")
    resp = await client.get("/v2/debug/")
    assert resp.status == 204


async def test_debug_endpoint_serves_captured_output(make_client):
    capture = DebugCapture()
    capture.start()
    try:
        client = await make_client("basic", debug_endpoint=True, debug_capture=capture)
        print("hello from a module")
        sys.stderr.write("and from stderr\n")
        resp = await client.get("/v2/debug/")
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
        assert "hello from a module" in text and "and from stderr" in text
    finally:
        capture.stop()


def test_debug_capture_is_bounded():
    capture = DebugCapture(max_chars=100)
    for i in range(1000):
        capture.add("line %d\n" % i)
    text = capture.text()
    assert len(text) <= 110 and text.endswith("line 999\n")

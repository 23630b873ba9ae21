"""API keys and CORS."""

from __future__ import annotations

import pytest

PREDICT = "/v2/models/basic/predict/"


@pytest.mark.parametrize("method, path", [
    ("POST", PREDICT), ("POST", "/v2/models/basic/train/"), ("GET", "/v2/models/basic/train/"),
    ("GET", "/v2/debug/"),
])
async def test_protected_routes_need_a_valid_key(make_client, method, path):
    client = await make_client("basic", api_key=("k1", "k2"))
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "k1"},
                    {"Authorization": "Basic k1"}):
        resp = await client.request(method, path, params={"n": "1"}, headers=headers)
        assert resp.status == 401, (path, headers)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Authorization: Bearer KEY" in (await resp.json())["message"]
    resp = await client.request(method, path, params={"n": "1"},
                                headers={"Authorization": "Bearer k2"})
    assert resp.status not in (401, 403)


async def test_public_routes_stay_public_unless_protect_all(make_client):
    client = await make_client("basic", api_key=("k1",))
    for path in ("/", "/v2/", "/v2/models/", "/v2/models/basic/", "/swagger.json",
                 "/openapi.json", "/api", "/v2/health/live"):
        assert (await client.get(path)).status == 200, path
    client = await make_client("basic", api_key=("k1",), protect_all=True)
    for path in ("/v2/models/", "/swagger.json", "/v2/health/live"):
        assert (await client.get(path)).status == 401, path
        resp = await client.get(path, headers={"Authorization": "Bearer k1"})
        assert resp.status == 200, path


async def test_keys_from_a_file(make_client, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nalpha\n\nbeta  # the CI\n")
    client = await make_client("basic", api_keys_file=str(keys))
    for key, status in (("alpha", 200), ("beta", 200), ("gamma", 401)):
        resp = await client.post(PREDICT, params={"n": "1"},
                                 headers={"Authorization": "Bearer " + key})
        assert resp.status == status, key


async def test_the_spec_declares_the_key_for_the_swagger_ui(make_client):
    client = await make_client("basic", api_key=("k1",))
    doc = await (await client.get("/swagger.json")).json()
    assert doc["securityDefinitions"]["apiKey"]["in"] == "header"
    assert doc["paths"][PREDICT]["post"]["security"] == [{"apiKey": []}]
    assert "security" not in doc["paths"]["/v2/models/"]["get"]
    oas = await (await client.get("/openapi.json")).json()
    assert oas["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    open_doc = await (await (await make_client("basic")).get("/swagger.json")).json()
    assert "securityDefinitions" not in open_doc


async def test_cors_is_off_by_default_and_follows_the_allowlist(make_client):
    client = await make_client("basic")
    resp = await client.get("/v2/models/", headers={"Origin": "https://ui.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers
    client = await make_client("basic", cors_origin=("https://ui.example",))
    resp = await client.get("/v2/models/", headers={"Origin": "https://ui.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    resp = await client.get("/v2/models/", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers
    preflight = await client.options(PREDICT, headers={
        "Origin": "https://ui.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    star = await make_client("basic", cors_origin=("*",))
    resp = await star.post(PREDICT, params={"n": "1"}, headers={"Origin": "https://any.example"})
    assert resp.status == 200  # any origin is allowed (aiohttp-cors echoes it back)
    assert resp.headers["Access-Control-Allow-Origin"] == "https://any.example"

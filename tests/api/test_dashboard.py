"""The dashboard's page and assets are served, under the base path, and stay public."""

from __future__ import annotations


async def test_page_and_assets(make_client):
    client = await make_client("basic")
    resp = await client.get("/dashboard/")
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    assert '<meta name="deepaas-base" content="">' in page
    for asset in ("dashboard.js", "dashboard.css"):
        static = await client.get("/dashboard/static/" + asset)
        assert static.status == 200 and len(await static.read()) > 100
    redirect = await client.get("/dashboard", allow_redirects=False)
    assert redirect.status == 308 and redirect.headers["Location"] == "/dashboard/"


async def test_base_path_and_keys(make_client):
    client = await make_client("basic", base_path="/x", api_key=("k",), protect_all=True)
    resp = await client.get("/x/dashboard/")
    assert resp.status == 200  # public even with --protect-all: the key is typed there
    page = await resp.text()
    assert '<meta name="deepaas-base" content="/x">' in page and "/x/dashboard/static/" in page
    assert (await client.get("/x/v2/models/")).status == 401

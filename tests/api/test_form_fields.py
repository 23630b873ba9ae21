"""Forms past a limit are answered 413 with the limit they passed, not another one."""

from __future__ import annotations

import aiohttp
import pytest

URL = "/v2/models/basic/predict/"
TOO_MANY = "A form of more than 1000 fields: this server reads 1000 at most (a fixed limit)"


async def test_too_many_urlencoded_fields_name_that_limit(make_client):
    client = await make_client("basic")
    body = "&".join("f%d=1" % i for i in range(1001))  # 10 KB: far under any size limit
    resp = await client.post(URL, params={"n": "1"}, data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 413 and await resp.json() == {"message": TOO_MANY}
    ok = "&".join("f%d=1" % i for i in range(999))
    resp = await client.post(URL, params={"n": "1"}, data=ok,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 200


async def test_too_many_multipart_fields_name_that_limit(make_client, tmp_path):
    client = await make_client("basic", tmp_dir=str(tmp_path))
    form = aiohttp.FormData()
    form.add_field("data", b"abc", filename="in.txt")
    for i in range(1001):
        form.add_field("f%d" % i, "1")
    resp = await client.post(URL, params={"n": "1"}, data=form)
    assert resp.status == 413 and await resp.json() == {"message": TOO_MANY}
    assert list(tmp_path.iterdir()) == []  # the upload read before it is gone


@pytest.mark.parametrize("kind", ["multipart", "urlencoded"])
async def test_a_field_over_the_size_limit_names_it_and_its_option(make_client, kind):
    client = await make_client("basic", max_json_size=1000)
    if kind == "multipart":
        form = aiohttp.FormData()
        form.add_field("word", "x" * 5000)
        resp = await client.post(URL, params={"n": "1"}, data=form)
    else:
        resp = await client.post(URL, params={"n": "1"}, data={"word": "x" * 5000})
    assert resp.status == 413
    message = (await resp.json())["message"]
    assert "1000 bytes" in message and "(--max-json-size)" in message

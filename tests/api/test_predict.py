"""POST /v2/models/NAME/predict/: every argument kind and location, answers and errors."""

from __future__ import annotations

import os

import aiohttp
import pytest

from tests.models import basic

URL = "/v2/models/basic/predict/"


async def test_query_arguments_with_defaults(make_client):
    client = await make_client("basic")
    resp = await client.post(URL, params=[("n", "2"), ("ids", "3"), ("ids", "4"),
                                          ("wire-name", "zz"), ("flag", "yes")])
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    body = await resp.json()
    assert body["status"] == "OK"
    pred = body["predictions"]
    assert pred["n"] == 2 and pred["ids"] == [3, 4] and pred["wire"] == "zz"
    assert pred["flag"] is True and pred["word"] == "hi" and pred["mode"] == "fast"
    assert pred["ratio"] == 0.5 and pred["accept"] == "application/json"
    # an optional argument without a default is left out; dump_only is never read
    assert "opt" not in pred and "hidden" not in pred


async def test_json_is_written_with_standard_separators(make_client):
    client = await make_client("basic")
    text = await (await client.post(URL, params={"n": "1"})).text()
    assert text.startswith('{"status": "OK", "predictions": {')


async def test_form_urlencoded_and_multipart_and_json(make_client):
    client = await make_client("basic")
    resp = await client.post(URL, data={"n": "3", "word": "yo"})
    assert (await resp.json())["predictions"]["word"] == "yo"
    form = aiohttp.FormData()
    form.add_field("n", "4")
    form.add_field("ids", "5")
    form.add_field("ids", "6")
    resp = await client.post(URL, data=form)
    pred = (await resp.json())["predictions"]
    assert pred["n"] == 4 and pred["ids"] == [5, 6]
    resp = await client.post(URL, json={"n": 5, "ids": [7, 8], "unknown": 1})
    pred = (await resp.json())["predictions"]
    assert pred["n"] == 5 and pred["ids"] == [7, 8]


async def test_query_wins_over_form_and_json(make_client):
    client = await make_client("basic")
    resp = await client.post(URL, params={"n": "1", "word": "query"}, data={"word": "form"})
    assert (await resp.json())["predictions"]["word"] == "query"
    resp = await client.post(URL, params={"word": "query"}, json={"n": 2, "word": "json"})
    pred = (await resp.json())["predictions"]
    assert pred["word"] == "query" and pred["n"] == 2


async def test_missing_and_invalid_values_answer_422_flat(make_client):
    client = await make_client("basic")
    resp = await client.post(URL)
    assert resp.status == 422
    assert await resp.json() == {"n": ["Missing data for required field."]}
    resp = await client.post(URL, params={"n": "x", "mode": "zzz", "ratio": "3"})
    assert resp.status == 422
    assert await resp.json() == {
        "n": ["Not a valid integer."],
        "mode": ["Must be one of: fast, slow."],
        "ratio": ["Must be greater than or equal to 0 and less than or equal to 1."],
    }


async def test_invalid_json_body_is_400(make_client):
    client = await make_client("basic")
    resp = await client.post(URL, data=b"{nope", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert await resp.json() == {"json": ["Invalid JSON body."]}


async def test_uploaded_file_reaches_module_and_is_deleted(make_client, tmp_path):
    client = await make_client("basic", tmp_dir=str(tmp_path))
    form = aiohttp.FormData()
    form.add_field("data", b"hello bytes", filename="in.txt", content_type="text/plain")
    form.add_field("other", b"second", filename="b.bin")
    form.add_field("ignored", b"never stored", filename="x.bin")
    resp = await client.post(URL, params={"n": "1"}, data=form)
    assert resp.status == 200
    pred = (await resp.json())["predictions"]
    data = pred["data"]
    assert data["name"] == "data" and data["original_filename"] == "in.txt"
    assert data["content_type"] == "text/plain" and data["text"] == "hello bytes"
    assert data["exists"] and os.path.dirname(data["path"]) == str(tmp_path)
    assert pred["other"]["text"] == "second"
    assert list(tmp_path.iterdir()) == []


async def test_files_are_deleted_when_validation_or_predict_fails(make_client, tmp_path):
    client = await make_client("basic", tmp_dir=str(tmp_path))
    for params in ({"n": "x"}, {"n": "1", "ret": "value-error"}):
        form = aiohttp.FormData()
        form.add_field("data", b"abc", filename="in.txt")
        resp = await client.post(URL, params=params, data=form)
        assert resp.status in (422, 500)
    assert list(tmp_path.iterdir()) == []


async def test_file_sent_to_a_text_field_is_invalid(make_client, tmp_path):
    client = await make_client("basic", tmp_dir=str(tmp_path))
    form = aiohttp.FormData()
    form.add_field("word", b"abc", filename="in.txt")
    resp = await client.post(URL, params={"n": "1"}, data=form)
    assert resp.status == 422
    assert await resp.json() == {"word": ["Not a valid string."]}
    assert list(tmp_path.iterdir()) == []


async def test_body_over_client_max_size_is_413_and_leaves_nothing(make_client, tmp_path):
    client = await make_client("basic", tmp_dir=str(tmp_path), client_max_size=1000)
    form = aiohttp.FormData()
    form.add_field("data", b"x" * 5000, filename="big.bin")
    resp = await client.post(URL, params={"n": "1"}, data=form)
    assert resp.status == 413
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("accept, content_type, expected", [
    ("text/plain", "text/plain", b"hihihi"),
    ("image/png", "image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00"),
    ("application/octet-stream", "application/octet-stream", b"\x00\x01" * 3),
    ("text/csv", "text/csv", b"a,b\n1,2\n"),
    ("image/*", "image/*", b"a,b\n1,2\n"),
])
async def test_accept_answers_raw_bodies(make_client, accept, content_type, expected):
    client = await make_client("basic")
    resp = await client.post(URL, params={"n": "3", "accept": accept})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == content_type
    assert await resp.read() == expected


async def test_accept_star_and_invalid(make_client):
    client = await make_client("basic")
    resp = await client.post(URL, params={"n": "1", "accept": "*/*"})
    assert resp.status == 200 and (await resp.json())["predictions"]["accept"] == "*/*"
    resp = await client.post(URL, params={"n": "1", "accept": "foo/bar"})
    assert resp.status == 422
    assert await resp.json() == {"accept": [
        "Must be one of: application/json, text/plain, image/png, application/octet-stream, "
        "text/csv, image/*."]}


async def test_accept_header_is_honoured_when_query_is_absent(make_client):
    client = await make_client("basic")
    resp = await client.post(URL, params={"n": "2"}, headers={"Accept": "text/plain"})
    assert resp.headers["Content-Type"] == "text/plain" and await resp.read() == b"hihi"
    resp = await client.post(URL, params={"n": "2", "accept": "application/json"},
                             headers={"Accept": "text/plain"})
    assert resp.headers["Content-Type"].startswith("application/json")
    resp = await client.post(URL, params={"n": "2"},
                             headers={"Accept": "text/html, */*;q=0.8, text/plain;q=0.9"})
    assert resp.headers["Content-Type"] == "text/plain"
    resp = await client.post(URL, params={"n": "2"}, headers={"Accept": "*/*"})
    assert resp.headers["Content-Type"].startswith("application/json")


async def test_values_json_cannot_hold_become_lists(make_client):
    client = await make_client("basic")
    resp = await client.post(URL, params={"n": "1", "ret": "set"})
    assert resp.status == 200
    assert sorted((await resp.json())["predictions"]) == [1, 2, 3]


async def test_module_exception_is_500_json(make_client):
    client = await make_client("basic")
    resp = await client.post(URL, params={"n": "1", "ret": "value-error"})
    assert resp.status == 500
    body = await resp.json()
    assert "ValueError: asked to fail" in body["message"] and "basic" in body["message"]
    assert "traceback" not in body


async def test_debug_mode_adds_the_module_traceback(make_client):
    client = await make_client("basic", debug=True)
    resp = await client.post(URL, params={"n": "1", "ret": "value-error"})
    body = await resp.json()
    assert resp.status == 500
    assert body["traceback"].startswith("Traceback")
    assert "tests/models/basic.py" in body["traceback"]


async def test_module_http_exception_keeps_status_and_reason(make_client):
    client = await make_client("basic")
    resp = await client.post(URL, params={"n": "1", "ret": "http-error"})
    assert resp.status == 400
    assert resp.reason == "module says no"
    assert await resp.json() == {"message": "module says no"}


async def test_predict_raising_not_implemented_is_501(make_client):
    client = await make_client("basic", "notimpl")
    resp = await client.post(URL, params={"n": "1", "ret": "not-implemented"})
    assert resp.status == 501
    resp = await client.post("/v2/models/notimpl/predict/")
    assert resp.status == 501
    # DEEPaaS 2.x's plain page, with the reason in the status line and the body
    assert resp.reason == "Model 'notimpl' does not implement predict"
    assert await resp.text() == "501: Model 'notimpl' does not implement predict"


async def test_schema_validates_and_answers_as_is(make_client):
    client = await make_client("klass")
    url = "/v2/models/klass/predict/"
    resp = await client.post(url, params={"x": "1.5", "label": "pos", "secret": "k"})
    assert resp.status == 200
    # warm() ran on the instance that predicts; the custom field upper-cased the label
    assert await resp.json() == {"label": "POS-warm", "score": 3.0}
    resp = await client.post(url, params={"x": "1", "bad": "true"})
    assert resp.status == 500
    assert "does not match its schema" in (await resp.json())["message"]


async def test_schema_given_as_a_dict_of_fields(make_client):
    client = await make_client("dictschema")
    url = "/v2/models/dictschema/predict/"
    resp = await client.post(url, json={"v": 4})
    assert resp.status == 200 and await resp.json() == {"value": 4}
    resp = await client.post(url, json={"v": "four"})
    assert resp.status == 500
    assert "value" in (await resp.json())["message"]


async def test_warm_runs_once_before_requests(make_client):
    basic.STATE["warm_calls"] = 0
    client = await make_client("basic")
    for _ in range(3):
        resp = await client.post(URL, params={"n": "1"})
        assert (await resp.json())["predictions"]["warm_calls"] == 1


async def test_nowarm_skips_warm(make_client):
    client = await make_client("klass", warm=False)
    resp = await client.post("/v2/models/klass/predict/", params={"x": "1"})
    assert (await resp.json())["label"] == "none-cold"  # defaults are not deserialised


async def test_async_predict_is_awaited(make_client):
    client = await make_client("asyncmod")
    resp = await client.post("/v2/models/asyncmod/predict/", params={"delay": "0.01"})
    assert await resp.json() == {"status": "OK", "predictions": {"async": True}}


async def test_module_without_args_gets_everything_it_needs(make_client):
    client = await make_client("bare")
    resp = await client.post("/v2/models/bare/predict/", params={"anything": "1"})
    assert await resp.json() == {"status": "OK", "predictions": ["ok", {}]}


async def test_disabled_predict_endpoint_answers_402(make_client):
    client = await make_client("basic", predict_endpoint=False)
    resp = await client.post(URL, params={"n": "1"})
    assert resp.status == 402
    assert await resp.text() == "402: Payment Required"


async def test_missing_slash_redirects_with_query(make_client):
    client = await make_client("basic")
    resp = await client.post(URL.rstrip("/") + "?n=1", allow_redirects=False)
    assert resp.status == 308
    assert resp.headers["Location"] == URL + "?n=1"


async def test_get_is_not_allowed(make_client):
    client = await make_client("basic")
    resp = await client.get(URL)
    assert resp.status == 405


async def test_declared_body_over_the_limit_is_refused_before_reading(make_client):
    client = await make_client("basic", client_max_size=1000)
    resp = await client.post(URL, params={"n": "1"}, data=b"x" * 5000,
                             headers={"Content-Type": "application/octet-stream"})
    assert resp.status == 413
    assert "--client-max-size" in (await resp.json())["message"]
    resp = await client.post(URL, params={"n": "1"}, json={"word": "y" * 5000})
    assert resp.status == 413 and resp.content_type == "application/json"


async def test_deeply_nested_json_is_400(make_client):
    client = await make_client("basic")
    body = "[" * 100000 + "]" * 100000
    resp = await client.post(URL, params={"n": "1"}, data=body,
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert await resp.json() == {"json": ["JSON body nested too deeply."]}


async def test_too_many_multipart_parts_is_413(make_client, tmp_path):
    client = await make_client("basic", tmp_dir=str(tmp_path))
    form = aiohttp.FormData(default_to_multipart=True)
    for i in range(1001):
        form.add_field("x%d" % i, "v")
    resp = await client.post(URL, params={"n": "1"}, data=form)
    assert resp.status == 413 and "more than 1000 fields" in (await resp.json())["message"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("headers, body", [
    ({"Content-Type": "multipart/form-data"}, b""),  # no boundary
    ({"Content-Type": "multipart/form-data; boundary=B"},
     b'--B\r\nContent-Disposition: form-data; name="\x1f"\r\n\r\n1\r\n--B--\r\n'),
    ({"Content-Type": "application/x-www-form-urlencoded; charset=nope"}, b"n=1"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, b"word=\xff"),
    ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"xx"),
])
async def test_malformed_bodies_are_400_not_500(make_client, tmp_path, headers, body):
    client = await make_client("basic", tmp_dir=str(tmp_path))
    resp = await client.post(URL, params={"n": "1"}, data=body, headers=headers)
    assert resp.status == 400, await resp.text()
    assert "Could not read the request body" in (await resp.json())["body"][0]
    assert list(tmp_path.iterdir()) == []

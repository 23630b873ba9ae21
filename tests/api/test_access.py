"""The batched access log."""

from __future__ import annotations

import asyncio
import io
import json
import re

from aiohttp import web

from deepaas.api.access import REJECTED_PER_SECOND, AccessLog, masked_path
from deepaas.api.observe import REQUEST_ID_KEY


class Request(dict):
    remote, method, raw_path = "127.0.0.1", "POST", "/v2/models/basic/predict/?n=1"


class Response:
    status, body_length = 200, 57


async def test_lines_are_written_in_a_batch_shortly_after():
    stream = io.StringIO()
    log = AccessLog([stream])
    for _ in range(3):
        log.add(Request({REQUEST_ID_KEY: "r-1"}), Response(), 0.00123)  # type: ignore[arg-type]
    assert stream.getvalue() == ""  # not yet: batched
    deadline = asyncio.get_running_loop().time() + 10
    while len(stream.getvalue().splitlines()) < 3:  # the batch is written soon after, at once
        assert asyncio.get_running_loop().time() < deadline, "the batch was never written"
        await asyncio.sleep(0.02)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO aiohttp.access: 127.0.0.1 "
                        r'"POST /v2/models/basic/predict/\?n=1" 200 1.230ms 57B rid=r-1 '
                        r"model=basic", lines[0])


async def test_json_lines():
    stream = io.StringIO()
    log = AccessLog([stream], as_json=True)
    log.add(Request({REQUEST_ID_KEY: "r-2"}), Response(), 0.002)  # type: ignore[arg-type]
    log.flush()
    entry = json.loads(stream.getvalue())
    assert entry["request_id"] == "r-2" and entry["model"] == "basic"
    assert entry["status"] == 200 and entry["duration_ms"] == 2.0
    assert entry["path"] == "/v2/models/basic/predict/?n=1" and entry["logger"] == "aiohttp.access"


async def test_a_large_buffer_is_written_at_once_and_flush_writes_the_rest():
    stream = io.StringIO()
    log = AccessLog([stream])
    for _ in range(1000):
        log.add(Request(), Response(), 0.001)  # type: ignore[arg-type]
    written = len(stream.getvalue().splitlines())
    assert 0 < written < 1000
    log.flush()
    assert len(stream.getvalue().splitlines()) == 1000


def test_a_disabled_log_says_so():
    log = AccessLog([io.StringIO()], enabled=False)
    assert log.logger_class()(None, "").enabled is False  # type: ignore[arg-type]


async def test_secret_query_values_show_masked_and_the_rest_as_sent():
    hidden = frozenset({"password", "api key"})
    raw = "/v2/models/m/predict/?n=1&password=s3cr3t&api+key=k%20y&password=again&note=a%3Db"
    assert masked_path(raw, hidden) == (
        "/v2/models/m/predict/?n=1&password=***&api+key=***&password=***&note=a%3Db")
    assert masked_path("/v2/models/m/predict/?password", hidden) == \
        "/v2/models/m/predict/?password"  # a name without a value: nothing to hide
    stream = io.StringIO()
    log = AccessLog([stream], as_json=True)
    log.hide(["secret"])
    request = Request()
    request.raw_path = "/v2/models/basic/predict/?n=1&secret=xyz"
    log.add(request, Response(), 0.001)  # type: ignore[arg-type]
    log.flush()
    assert json.loads(stream.getvalue())["path"] == "/v2/models/basic/predict/?n=1&secret=***"


async def test_rejected_requests_are_capped_a_second_and_the_rest_counted_in_json():
    stream = io.StringIO()
    log = AccessLog([stream], as_json=True)
    answer = web.Response(status=400, text="Bad status line:\n  Expected dot:\n\n  b'GET / HTTP/9'"
                                           "\n              ^")
    for _ in range(REJECTED_PER_SECOND + 5):
        log.reject(Request(), answer, 0.001)  # type: ignore[arg-type]
    log.close()  # the stop: the count is written though the second is not over
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(entries) == REJECTED_PER_SECOND + 1
    assert entries[0]["method"] is None and entries[0]["status"] == 400
    assert entries[0]["rejected"] == "Bad status line: Expected dot: b'GET / HTTP/9'"
    assert entries[-1]["level"] == "WARNING" and entries[-1]["unlogged"] == 5

"""Streamed predictions over HTTP: items as the generator makes them, in threads and in
--isolate worker processes; errors, disconnects, slow clients and timeouts."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.helpers import wait_file

URL = "/v2/models/streamer/predict/"
MODES = [pytest.param({}, id="threads"), pytest.param({"isolate": True}, id="isolate")]


async def _json_lines(resp) -> list:
    return [json.loads(line) for line in (await resp.read()).splitlines()]


async def _settled(path, deadline: float = 20.0, quiet: float = 0.5) -> int:
    """The number a file holds once it stopped changing for ``quiet`` seconds."""
    end = time.monotonic() + deadline
    last, since = None, time.monotonic()
    while time.monotonic() < end:
        now = path.read_text() if path.exists() else None
        if now != last:
            last, since = now, time.monotonic()
        elif now is not None and time.monotonic() - since >= quiet:
            return int(now)
        await asyncio.sleep(0.05)
    raise AssertionError("%s never settled (last: %s)" % (path, last))


@pytest.mark.parametrize("mode", MODES)
async def test_the_first_line_arrives_while_the_last_item_is_still_being_made(
        make_client, tmp_path, mode):
    client = await make_client("streamer", **mode)
    gate, finished = tmp_path / "gate", tmp_path / "finished"
    resp = await client.post(URL, params={"n": "3", "gate": str(gate),
                                          "finished": str(finished)})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/x-ndjson"
    assert resp.headers["Transfer-Encoding"] == "chunked"
    assert json.loads(await resp.content.readline())["i"] == 0
    assert json.loads(await resp.content.readline())["i"] == 1
    assert not finished.exists()  # the generator waits at the gate before its last item
    gate.touch()
    assert [item["i"] for item in await _json_lines(resp)] == [2]
    await wait_file(finished)
    assert finished.read_text() == "3"


@pytest.mark.parametrize("mode", MODES)
async def test_server_sent_events_with_an_error_event_at_the_end(make_client, tmp_path, mode):
    client = await make_client("streamer", **mode)
    gate = tmp_path / "gate"
    resp = await client.post(URL, params={"n": "3", "gate": str(gate), "fail_at": "2"},
                             headers={"Accept": "text/event-stream"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/event-stream"
    assert resp.headers["Cache-Control"] == "no-cache"
    first = await resp.content.readline()
    assert first.startswith(b"data: ") and json.loads(first[6:])["i"] == 0
    assert await resp.content.readline() == b"\n"
    rest = (await resp.read()).decode()
    events = rest.split("\n\n")
    assert json.loads(events[0][len("data: "):])["i"] == 1
    assert events[1].startswith("event: error\ndata: ")
    error = json.loads(events[1].split("data: ", 1)[1])
    assert "broke at item 2" in error["error"]
    assert events[2:] == [""]


@pytest.mark.parametrize("mode", MODES)
async def test_a_failure_after_the_first_item_is_the_last_ndjson_line(make_client, mode):
    client = await make_client("streamer", **mode)
    resp = await client.post(URL, params={"n": "5", "fail_at": "2"})
    lines = await _json_lines(resp)
    assert [line.get("i") for line in lines[:2]] == [0, 1]
    assert list(lines[2]) == ["error"] and "RuntimeError: broke at item 2" in lines[2]["error"]
    assert len(lines) == 3


@pytest.mark.parametrize("mode", MODES)
async def test_a_failure_before_the_first_item_is_an_ordinary_error_answer(make_client, mode):
    client = await make_client("streamer", **mode)
    resp = await client.post(URL, params={"n": "3", "fail_at": "0"})
    assert resp.status == 500
    assert "broke at item 0" in (await resp.json())["message"]
    resp = await client.post(URL, params={"n": "0"})  # nothing at all: an empty stream
    assert resp.status == 200 and await resp.read() == b""


@pytest.mark.parametrize("mode", MODES)
async def test_bytes_items_stream_raw_with_the_declared_media_type(make_client, mode):
    client = await make_client("streamer", **mode)
    resp = await client.post(URL, params={"n": "3", "kind": "bytes"})
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert await resp.read() == b"<0><1><2>"
    resp = await client.post(URL, params={"n": "2", "kind": "bytes", "accept": "audio/wav"})
    assert resp.headers["Content-Type"] == "audio/wav"
    assert await resp.read() == b"<0><1>"
    resp = await client.post(URL, params={"n": "3", "kind": "mixed"})  # a value, then bytes
    lines = await _json_lines(resp)
    assert lines[0]["i"] == 0 and "a stream is either bytes or JSON values" in lines[1]["error"]


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_that_leaves_closes_the_generator_and_frees_the_worker(
        make_client, tmp_path, mode):
    client = await make_client("streamer", **mode)
    finished = tmp_path / "finished"
    resp = await client.post(URL, params={"n": "100000", "pause": "0.01",
                                          "finished": str(finished)})
    first = json.loads(await resp.content.readline())
    resp.close()  # the client goes away mid-stream
    await wait_file(finished)  # the generator's finally ran
    assert int(finished.read_text()) < 100000
    again = await client.post(URL, params={"n": "2"})  # the one worker serves again
    assert [item["pid"] for item in await _json_lines(again)] == [first["pid"]] * 2


@pytest.mark.parametrize("mode", MODES)
async def test_a_slow_client_pauses_the_generator(make_client, tmp_path, mode):
    client = await make_client("streamer", **mode)
    progress = tmp_path / "progress"
    resp = await client.post(URL, params={"n": "1000", "size": str(2**17),
                                          "progress": str(progress)})
    await resp.content.read(100)  # a little read, then the client reads no more
    made = await _settled(progress)
    # 1000 items of 128 KiB were asked for: only what the buffers on the way hold was made
    assert made < 400, made
    resp.close()


async def test_a_paused_stream_holds_no_thread(make_client, tmp_path):
    client = await make_client("streamer", workers=1)  # one thread for the model
    progress = tmp_path / "progress"
    paused = await client.post(URL, params={"n": "1000", "size": str(2**17),
                                            "progress": str(progress)})
    await paused.content.read(100)  # then it reads no more: its generator is paused
    await _settled(progress)
    other = await client.post(URL, params={"n": "2"})  # served on the one thread meanwhile
    assert [item["i"] for item in await _json_lines(other)] == [0, 1]
    paused.close()


async def test_predict_timeout_bounds_the_time_between_items(make_client, tmp_path):
    client = await make_client("streamer", isolate=True, predict_timeout=1)
    gate = tmp_path / "gate"  # never opened: the last item never comes
    began = time.monotonic()
    resp = await client.post(URL, params={"n": "3", "gate": str(gate)})
    lines = await _json_lines(resp)
    assert [line.get("i") for line in lines[:2]] == [0, 1]
    assert "longer than 1 s to give its next item" in lines[2]["error"]
    assert time.monotonic() - began < 10
    again = await client.post(URL, params={"n": "1"})  # on a new worker: the stuck one died
    assert (await _json_lines(again))[0]["pid"] != lines[0]["pid"]


async def test_a_worker_that_dies_mid_stream_ends_it_with_an_error_and_is_replaced(
        make_client, tmp_path):
    client = await make_client("streamer", isolate=True)
    gate = tmp_path / "gate"
    resp = await client.post(URL, params={"n": "5", "fail_at": "2", "kind": "exit",
                                          "gate": str(gate)})
    first = json.loads(await resp.content.readline())
    assert first["i"] == 0
    assert json.loads(await resp.content.readline())["i"] == 1
    gate.touch()  # now it dies, making its third item
    lines = await _json_lines(resp)
    assert len(lines) == 1 and "died (exit code 3)" in lines[0]["error"]
    again = await client.post(URL, params={"n": "1"})
    assert (await _json_lines(again))[0]["pid"] != first["pid"]


async def test_predict_timeout_in_threads_ends_the_stream(make_client, tmp_path):
    client = await make_client("streamer", predict_timeout=1, workers=2)
    gate, finished = tmp_path / "gate", tmp_path / "finished"
    resp = await client.post(URL, params={"n": "3", "gate": str(gate),
                                          "finished": str(finished)})
    lines = await _json_lines(resp)
    assert "longer than 1 s" in lines[-1]["error"]
    gate.touch()  # the thread's step ends; then the generator is closed
    await wait_file(finished)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, params, items", [
    ("streamer", {"kind": "async", "n": "2"}, [0, 1]),  # a function returning an async gen
    ("astreamer", {"kind": "async", "n": "2"}, [{"a": 0}, {"a": 1}]),  # a coroutine's
    ("astreamer", {"kind": "sync", "n": "3"}, [0, 1, 2]),
    ("agenmod", {"word": "abc"}, ["a", "b", "c"]),  # an async generator function
])
async def test_async_generators_and_coroutines_that_return_generators(
        make_client, mode, name, params, items):
    client = await make_client(name, **mode)
    resp = await client.post("/v2/models/%s/predict/" % name, params=params)
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/x-ndjson"
    lines = await _json_lines(resp)
    assert [line["i"] if name == "streamer" else line for line in lines] == items


async def test_the_spec_documents_the_streamed_media_types(make_client):
    client = await make_client("agenmod", "basic")
    spec = await (await client.get("/swagger.json")).json()
    streamed = spec["paths"]["/v2/models/agenmod/predict/"]["post"]
    assert streamed["produces"] == ["application/x-ndjson", "text/event-stream",
                                    "application/octet-stream"]
    assert "one JSON value per line" in streamed["responses"]["200"]["description"]
    plain = spec["paths"]["/v2/models/basic/predict/"]["post"]
    assert "application/x-ndjson" not in plain["produces"]
    openapi = await (await client.get("/openapi.json")).json()
    content = openapi["paths"]["/v2/models/agenmod/predict/"]["post"]["responses"]["200"]
    assert set(content["content"]) >= {"application/x-ndjson", "text/event-stream"}

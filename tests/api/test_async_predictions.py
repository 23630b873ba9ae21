"""Asynchronous predictions over real HTTP: ``Prefer: respond-async`` on predict, then the
record at ``/v2/models/NAME/predictions/UUID``. Ordered by gate files and polling with a
deadline, never by fixed sleeps."""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from deepaas.api.v2.predictions import respond_async
from deepaas.jobs.prediction_records import STOPPED, PredictionRecord
from deepaas.jobs.sqlite import SQLiteStore
from deepaas.jobs.sqlite_predictions import SQLitePredictions
from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper
from tests.conftest import wrapper
from tests.helpers import eventually

ASYNC = {"Prefer": "respond-async"}
PREDICT = "/v2/models/gated/predict/"
LIST = "/v2/models/gated/predictions/"


def gated() -> ModelWrapper:
    return ModelWrapper("gated", resolve("tests.models.gated"), "tests.models.gated")


@pytest.fixture
def gate(tmp_path: Path) -> Any:
    """``gate(name)``: the path of a gate file; every gate is opened when the test ends, so
    that no prediction thread is left waiting."""
    made: list[Path] = []

    def new(name: str) -> Path:
        made.append(tmp_path / ("gate-" + name))
        return made[-1]

    yield new
    for path in made:
        path.touch()


async def _until(check: Any, what: str, timeout: float = 10.0) -> Any:
    """Poll ``check()`` (a coroutine function) until it answers something true."""
    return await eventually(check, what, timeout, every=0.02)


async def _status(client: Any, uuid: str, *wanted: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        resp = await client.get(LIST + uuid)
        record = await resp.json()
        return record if record["status"] in wanted else None

    return await _until(check, "prediction %s to be %s" % (uuid, "/".join(wanted)))


async def _exists(path: Path) -> bool:
    return path.exists()


async def _submit(client: Any, params: dict[str, Any], status: int = 202) -> dict[str, Any]:
    resp = await client.post(PREDICT, params=params, headers=ASYNC)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_202_at_once_with_location_then_done_with_the_sync_result(serve, gate):
    client = await serve(Registry.of(gated()))
    sync = await client.post(PREDICT, params={"n": 21})  # no header: unchanged
    assert sync.status == 200 and "Preference-Applied" not in sync.headers
    expected = await sync.json()
    assert expected == {"status": "OK", "predictions": {"n": 21, "doubled": 42}}

    began = time.monotonic()
    resp = await client.post(PREDICT, params={"n": 21, "gate": str(gate("a"))}, headers=ASYNC)
    elapsed = time.monotonic() - began
    record = await resp.json()
    assert resp.status == 202 and elapsed < 0.5, elapsed
    assert resp.headers["Location"] == LIST + record["uuid"]
    assert resp.headers["Preference-Applied"] == "respond-async"
    assert record["status"] == "running" and record["model"] == "gated"
    assert record["args"]["n"] == 21 and "result" not in record
    await _until(lambda: _exists(Path(str(gate("a")) + ".in")), "the model to start")
    assert (await (await client.get(resp.headers["Location"])).json())["status"] == "running"

    gate("a").touch()
    done = await _status(client, record["uuid"], "done")
    assert done["result"] == expected
    assert set(done) >= {"uuid", "date", "finish_date", "duration", "args"}
    download = await client.get(LIST + record["uuid"] + "/result")
    assert download.content_type == "application/json" and await download.json() == expected


async def test_uploads_live_until_the_prediction_ends(serve, gate, tmp_path):
    client = await serve(Registry.of(gated()))
    form = aiohttp.FormData()
    form.add_field("data", b"kept for later", filename="in.txt", content_type="text/plain")
    resp = await client.post(PREDICT, params={"gate": str(gate("u"))}, data=form,
                             headers=ASYNC)
    record = await resp.json()
    assert resp.status == 202 and record["args"]["data"] == ["data", "text/plain", "in.txt"]
    await _until(lambda: _exists(Path(str(gate("u")) + ".in")), "the model to start")
    assert _uploads(tmp_path)  # answered 202 already, still running: the file is there
    gate("u").touch()
    done = await _status(client, record["uuid"], "done")
    assert done["result"]["predictions"]["text"] == "kept for later"
    await _until(lambda: _none_left(tmp_path), "the upload to be removed")


def _uploads(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if "upload" in p.name]


async def _none_left(folder: Path) -> bool:
    return not _uploads(folder)


async def test_a_streamed_answer_is_kept_whole(make_client):
    client = await make_client("streamer")
    sync = await client.post("/v2/models/streamer/predict/", params={"n": 3})
    items = [json.loads(line) for line in (await sync.text()).splitlines()]
    resp = await client.post("/v2/models/streamer/predict/", params={"n": 3}, headers=ASYNC)
    assert resp.status == 202
    location = resp.headers["Location"]

    async def done() -> dict[str, Any] | None:
        found = await (await client.get(location)).json()
        return found if found["status"] != "running" else None

    found = await _until(done, "the stream to be gathered")
    assert found["status"] == "done" and found["result"] == {"status": "OK", "predictions": items}


async def test_a_binary_result_is_downloaded_with_its_media_type(serve):
    client = await serve(Registry.of(gated()), base_path="/base")
    resp = await client.post("/base" + PREDICT, params={"n": 3, "accept": "image/png"},
                             headers=ASYNC)
    record = await resp.json()
    assert resp.headers["Location"] == "/base" + LIST + record["uuid"]

    async def done() -> dict[str, Any] | None:
        found = await (await client.get(resp.headers["Location"])).json()
        return found if found["status"] == "done" else None

    found = await _until(done, "the png")
    assert "result" not in found and found["content_type"] == "image/png"
    assert found["result_url"] == "/base" + LIST + record["uuid"] + "/result"
    body = await client.get(found["result_url"])
    assert body.headers["Content-Type"] == "image/png"
    assert await body.read() == b"\x89PNG\r\n\x1a\n" + bytes(3)


async def test_a_failing_prediction_ends_in_error_with_its_message(serve):
    client = await serve(Registry.of(gated()))
    record = await _submit(client, {"fail": "true"})
    failed = await _status(client, record["uuid"], "error")
    assert "asked to fail" in failed["message"] and "result" not in failed
    assert (await client.get(LIST + record["uuid"] + "/result")).status == 404


async def test_cancel_frees_the_line_and_the_list_filters(serve, gate):
    client = await serve(Registry.of(gated()), workers=1, max_queue=1)
    first = await _submit(client, {"gate": str(gate("first"))})
    await _until(lambda: _exists(Path(str(gate("first")) + ".in")), "the first to run")
    waiting = await _submit(client, {"n": 2})
    refused = await client.post(PREDICT, params={"n": 3}, headers=ASYNC)
    assert refused.status == 503 and "Retry-After" in refused.headers  # the line is full

    resp = await client.delete(LIST + waiting["uuid"])
    assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    third = await _submit(client, {"n": 3})  # its place is free again
    gate("first").touch()
    await _status(client, third["uuid"], "done")
    await _status(client, first["uuid"], "done")
    again = await client.delete(LIST + first["uuid"])  # ended: as it was
    assert (await again.json())["status"] == "done"

    async def listed(query: str) -> list[str]:
        resp = await client.get(LIST + query)
        assert resp.status == 200
        return [r["uuid"] for r in await resp.json()]

    assert await listed("") == [first["uuid"], waiting["uuid"], third["uuid"]]
    assert await listed("?status=cancelled") == [waiting["uuid"]]
    assert await listed("?status=done&limit=1&offset=1") == [third["uuid"]]
    assert await listed("?status=done,cancelled&limit=2") == [first["uuid"], waiting["uuid"]]
    assert (await client.get(LIST + "?status=lost")).status == 422
    assert (await client.get(LIST + "nope")).status == 404
    assert (await client.get("/v2/models/basic/predictions/")).status == 404  # not served


async def test_the_same_uuid_is_no_other_models_prediction(serve):
    client = await serve(Registry.of(gated(), wrapper("basic")))
    record = await _submit(client, {})
    await _status(client, record["uuid"], "done")
    assert (await client.get("/v2/models/basic/predictions/" + record["uuid"])).status == 404
    assert await (await client.get("/v2/models/basic/predictions/")).json() == []


async def test_predictions_disabled_answer_402(serve):
    client = await serve(Registry.of(gated()), predict_endpoint=False)
    assert (await client.post(PREDICT, headers=ASYNC)).status == 402
    assert (await client.get(LIST)).status == 402
    assert (await client.get(LIST + "x")).status == 402


@pytest.mark.parametrize("header, wanted", [
    ("respond-async", True), ("Respond-Async", True), ("wait=10, respond-async", True),
    ('handling=lenient; x="a,respond-async", wait=5', False),
    ('foo="a\\"b,c", respond-async; p=1', True), ("respond-asynchronous", False),
    ("return=minimal", False), ("", False)])
def test_the_prefer_header_is_read_as_rfc_7240_says(header, wanted):
    request = make_mocked_request("POST", PREDICT, headers={"Prefer": header})
    assert respond_async(request) is wanted


def test_several_prefer_headers_are_all_read():
    from multidict import CIMultiDict

    headers = CIMultiDict([("Prefer", "wait=1"), ("Prefer", "RESPOND-ASYNC")])
    assert respond_async(make_mocked_request("POST", PREDICT, headers=headers)) is True


async def test_a_restart_closes_what_was_left_running_and_keeps_the_rest(serve, gate,
                                                                         tmp_path):
    data = tmp_path / "data"
    client = await serve(Registry.of(gated()), data_dir=str(data))
    done = await _submit(client, {"n": 5})
    await _status(client, done["uuid"], "done")
    stopped = await _submit(client, {"gate": str(gate("never"))})
    await client.close()  # the server stops under it: recorded as error
    # A server killed outright (kill -9) leaves a record running, of a replica that is gone.
    jobs = SQLiteStore(data / "jobs.sqlite3")
    await jobs.open()
    left = PredictionRecord(uuid="f" * 32, model="gated", args={},
                            date=datetime.datetime.now(), owner="gone")
    await SQLitePredictions(jobs).put(left)
    await jobs.close()

    again = await serve(Registry.of(gated()), data_dir=str(data))
    records = {r["uuid"]: r for r in await (await again.get(LIST)).json()}
    assert records[done["uuid"]]["status"] == "done"
    assert records[done["uuid"]]["result"]["predictions"] == {"n": 5, "doubled": 10}
    for uuid in (stopped["uuid"], left.uuid):
        assert records[uuid]["status"] == "error" and records[uuid]["message"] == STOPPED



@pytest.mark.cluster
async def test_replicas_over_a_shared_postgresql_store(postgres_db, serve, gate):
    pytest.importorskip("asyncpg")
    first = await serve(Registry.of(gated()), job_store=postgres_db)
    second = await serve(Registry.of(gated()), job_store=postgres_db)
    record = await _submit(first, {"gate": str(gate("shared"))})
    seen = await (await second.get(LIST + record["uuid"])).json()
    assert seen["status"] == "running"  # any replica answers for it
    # A cancel through the other replica is recorded there and then; the owner's own
    # ending, when its work is over, is refused: the first ending wins.
    cancelled = await (await second.delete(LIST + record["uuid"])).json()
    assert cancelled["status"] == "cancelled"
    gate("shared").touch()
    done = await _submit(first, {"n": 4})
    await _status(second, done["uuid"], "done")
    await _status(first, record["uuid"], "cancelled")

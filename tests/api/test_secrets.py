"""Secret arguments (``load_only``, ``format: password``) never show: every surface a user can
read back is searched for known secrets, and the module still gets the real values."""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from deepaas.api.access import AccessLog
from deepaas.debug import DebugCapture
from tests.helpers import eventually, poll_job
from tests.models.secretive import digest
from tests.webhooks.receiver import on_loopback, start_receiver

PREDICT = "/v2/models/secretive/predict/"
ASYNC = "/v2/models/secretive/predictions/"
TRAIN = "/v2/models/secretive/train/"
SHOWN = {"token": "***", "key": "***", "legacy": "***", "note": "plain", "fail": False,
         "gate": "", "stream": False}
ASYNC_HEADERS = {"Prefer": "respond-async"}


@pytest.fixture
def secrets() -> dict[str, str]:
    """Three unique secrets, one per way of declaring one (a 'note' is not secret)."""
    mark = uuid.uuid4().hex
    return {"token": "tok-" + mark, "apiKey": "key-" + mark, "legacy": "leg-" + mark,
            "note": "plain"}


def _expected(secrets: dict[str, str]) -> str:
    return digest(secrets["token"], secrets["apiKey"], secrets["legacy"])


def _unseen(secrets: dict[str, str], where: str, text: str | bytes) -> None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    for name in ("token", "apiKey", "legacy"):
        assert secrets[name].encode("utf-8") not in data, "%s shows in %s" % (name, where)
        # the random part alone: no encoding (a JSON escape, a URL quote) hides it either
        assert secrets[name][4:].encode("utf-8") not in data, "%s shows in %s" % (name, where)


def _unseen_in_files(secrets: dict[str, str], root: Path) -> int:
    """Every file under ``root``, read whole; answers how many were read."""
    files = [p for p in root.rglob("*") if p.is_file()]
    for path in files:
        _unseen(secrets, str(path), path.read_bytes())
    return len(files)


@pytest.fixture
def watched(tmp_path: Path) -> Any:
    """Settings overrides for a server whose every output is kept to be searched: the debug
    page, deepaas-run's access log (into the debug page's stderr and ``access.lines``), the
    data dir under ``tmp_path`` (as the tmp dir)."""
    capture = DebugCapture()
    capture.start()
    lines = io.StringIO()
    access = AccessLog([lines, sys.stderr])  # stderr: the debug page's copy
    access.lines = lines  # type: ignore[attr-defined]
    yield {"data_dir": str(tmp_path / "data"), "debug_endpoint": True, "debug_capture": capture,
           "access_log": access}
    capture.stop()


async def _everywhere_else(client: Any, secrets: dict[str, str], caplog: Any, tmp_path: Path,
                           receiver: Any, access: AccessLog) -> None:
    """The surfaces every test checks last: the access log, metrics, the debug page, the
    server's log records, webhook bodies and every file under the data and tmp folders."""
    access.flush()
    _unseen(secrets, "the access log", access.lines.getvalue())  # type: ignore[attr-defined]
    _unseen(secrets, "/metrics", await (await client.get("/metrics")).text())
    debug = await client.get("/v2/debug/")
    assert debug.status == 200
    _unseen(secrets, "/v2/debug/", await debug.text())
    _unseen(secrets, "the log records", "\n".join(
        r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records))
    for got in receiver.received if receiver is not None else ():
        _unseen(secrets, "a webhook body", got.body)
    assert _unseen_in_files(secrets, tmp_path) > 0  # the job store, at least, is there


async def test_predictions_never_show_a_secret(make_client: Any, aiohttp_server: Any,
                                               tmp_path: Path, secrets: dict[str, str],
                                               watched: dict[str, Any], caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = await start_receiver(aiohttp_server)
    client = await make_client("secretive", **watched, **on_loopback("whsec-for-the-test"))
    # synchronous: the module got the real values, sent in the query, a form and JSON
    for how in ("params", "data", "json"):
        resp = await client.post(PREDICT, **{how: secrets})
        assert resp.status == 200, await resp.text()
        answer = await resp.text()
        assert json.loads(answer)["predictions"]["got"] == _expected(secrets)
        _unseen(secrets, "the answer", answer)
    # asynchronous: the 202 answer, the record, the list, the result and the webhook
    resp = await client.post(PREDICT, json=secrets,
                             headers={**ASYNC_HEADERS, "Webhook-URL": receiver.url})
    assert resp.status == 202
    accepted = await resp.text()
    _unseen(secrets, "the 202 answer", accepted)
    record = json.loads(accepted)
    assert record["args"] == SHOWN
    delivered = json.loads((await receiver.next()).body)
    assert delivered["status"] == "done" and delivered["args"] == SHOWN
    one = await (await client.get(ASYNC + record["uuid"])).text()
    assert json.loads(one)["args"] == SHOWN
    listed = await (await client.get(ASYNC)).text()
    assert [r["args"] for r in json.loads(listed)] == [SHOWN]
    result = await (await client.get(ASYNC + record["uuid"] + "/result")).json()
    assert result["predictions"]["got"] == _expected(secrets)
    for where, text in (("the record", one), ("the list", listed)):
        _unseen(secrets, where, text)
    await _everywhere_else(client, secrets, caplog, tmp_path, receiver, watched["access_log"])
    assert ('"POST /v2/models/secretive/predict/?token=***&apiKey=***&legacy=***&note=plain"'
            in watched["access_log"].lines.getvalue())


async def test_a_failed_prediction_quoting_a_secret_shows_it_masked(
        make_client: Any, tmp_path: Path, secrets: dict[str, str], watched: dict[str, Any],
        caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    client = await make_client("secretive", **watched, debug=True)
    failing = {**secrets, "fail": "true"}
    resp = await client.post(PREDICT, params=failing)
    assert resp.status == 500
    text = await resp.text()
    _unseen(secrets, "the 500 answer", text)  # its traceback (--debug) included
    assert "login refused for token ***" in json.loads(text)["message"]
    assert "login refused for token ***" in json.loads(text)["traceback"]
    resp = await client.post(PREDICT, params=failing, headers=ASYNC_HEADERS)
    uuid = (await resp.json())["uuid"]
    ended = await eventually(lambda: _ended(client, ASYNC + uuid), "the prediction's end")
    assert ended["status"] == "error" and "login refused for token ***" in ended["message"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "login refused for token ***" in logged  # the traceback is still logged
    await _everywhere_else(client, secrets, caplog, tmp_path, None, watched["access_log"])


@pytest.mark.parametrize("isolate", [False, True])
async def test_a_stream_failing_midway_with_a_secret_shows_it_masked(
        make_client: Any, tmp_path: Path, secrets: dict[str, str], watched: dict[str, Any],
        caplog: Any, isolate: bool) -> None:
    caplog.set_level(logging.DEBUG)
    client = await make_client("secretive", **watched, isolate=isolate)
    resp = await client.post(PREDICT, params={**secrets, "fail": "true", "stream": "true"})
    assert resp.status == 200  # the first item came before the error
    lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    assert lines[0] == {"step": 1} and "login refused for token ***" in lines[-1]["error"]
    _unseen(secrets, "the streamed answer", json.dumps(lines))
    await _everywhere_else(client, secrets, caplog, tmp_path, None, watched["access_log"])


async def _ended(client: Any, url: str) -> dict[str, Any] | None:
    record = await (await client.get(url)).json()
    return record if record["status"] != "running" else None


async def test_trainings_never_show_a_secret(make_client: Any, aiohttp_server: Any,
                                             tmp_path: Path, secrets: dict[str, str],
                                             watched: dict[str, Any], caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = await start_receiver(aiohttp_server)
    client = await make_client("secretive", **watched, **on_loopback("whsec-for-the-test"))
    hook = {"Webhook-URL": receiver.url}
    gate = tmp_path / "gate"
    resp = await client.post(TRAIN, params={**secrets, "gate": str(gate)}, headers=hook)
    assert resp.status == 200
    submitted = await resp.text()
    _unseen(secrets, "the training's answer", submitted)
    assert json.loads(submitted)["args"] == {**SHOWN, "gate": str(gate)}
    uuid = json.loads(submitted)["uuid"]
    # While it runs: its arguments reached it through a pipe, nowhere a user can read
    pid = await eventually(lambda: gate.with_suffix(".pid").exists() and
                           gate.with_suffix(".pid").read_text(), "the training's start")
    for part in ("cmdline", "environ"):
        _unseen(secrets, "the training process's " + part,
                Path("/proc/%s/%s" % (pid, part)).read_bytes())
    _unseen_in_files(secrets, tmp_path)
    gate.touch()
    job = await poll_job(client, TRAIN, uuid)
    assert job["status"] == "done", job
    assert job["args"]["token"] == "***" and job["result"]["output"]["got"] == _expected(secrets)
    failed = await client.post(TRAIN, data={**secrets, "fail": "true"}, headers=hook)
    failed_job = await poll_job(client, TRAIN, (await failed.json())["uuid"])
    assert failed_job["status"] == "error"
    assert failed_job["message"] == "login refused for token ***"
    logs = await (await client.get(TRAIN + failed_job["uuid"] + "/logs")).text()
    assert "login refused for token ***" in logs  # the traceback, as the training printed it
    await eventually(lambda: len(receiver.received) >= 2, "both deliveries")
    bodies = [json.loads(r.body) for r in receiver.received]
    assert sorted(b["status"] for b in bodies) == ["done", "error"]
    assert all(b["args"]["token"] == b["args"]["key"] == b["args"]["legacy"] == "***"
               for b in bodies)
    surfaces = {"the list": await (await client.get(TRAIN)).text(),
                "the record": await (await client.get(TRAIN + uuid)).text(),
                "the log": await (await client.get(TRAIN + uuid + "/logs")).text(),
                "the failed one's log": logs}
    for where, text in surfaces.items():
        _unseen(secrets, where, text)
    await _everywhere_else(client, secrets, caplog, tmp_path, receiver, watched["access_log"])


async def test_a_refused_secret_is_not_quoted_back(make_client: Any,
                                                   secrets: dict[str, str]) -> None:
    client = await make_client("secretive")
    refused = "bad-" + secrets["token"]
    for how in ("params", "json"):
        resp = await client.post(PREDICT, **{how: {**secrets, "token": refused}})
        assert resp.status == 422
        assert await resp.json() == {"token": ["*** is not a token this module takes"]}
    resp = await client.post(TRAIN, params={"token": refused})
    assert resp.status == 422 and refused not in await resp.text()
    assert await (await client.get(TRAIN)).json() == []

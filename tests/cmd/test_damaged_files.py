"""deepaas-run as a real process, started on a data dir holding damaged files: each is used
or set aside with one log line naming it, and the server listens; a start-up error no one
foresaw ends the process with one line, never a process that neither serves nor exits."""

from __future__ import annotations

import datetime
import http.server
import json
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepaas.jobs.folders import record_text
from deepaas.jobs.records import Job, JobStatus
from deepaas.webhooks.outbox import message_id
from tests.cmd.test_run import BIN, _get, _start, _stop

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="deepaas-run is not installed")

_ARMED_BAD = {  # the file first: a finished job's, without "url"
    "ended.json": '{"uuid": "ended", "armed": 1}',
    "notjson.json": "{not json",
    "alist.json": "[1, 2]",
    "numberurl.json": '{"uuid": "numberurl", "url": 5, "armed": 1}',
    "othername.json": '{"uuid": "someone-else", "url": "http://127.0.0.1:1/", "armed": 1}',
}
_PENDING_BAD = {
    "msg_short.json": '{"id": "msg_short", "uuid": "short", "url": "http://127.0.0.1:1/"}',
    "msg_text.json": b"\xff\xfe not text",
}


def _finished(data_dir: Path, name: str, **changes: object) -> None:
    """A training that ended before the server started: its folder and record."""
    now = datetime.datetime.now()
    job = Job(uuid=name, model="compatmod", args={}, date=now, status=JobStatus.DONE,
              start_date=now, finish_date=now)
    folder = data_dir / "jobs" / name
    folder.mkdir(parents=True)
    record = {**json.loads(record_text(job)), **changes}
    (folder / "record.json").write_text(json.dumps(record))


def _write(folder: Path, files: dict[str, str | bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if isinstance(text, bytes):
            (folder / name).write_bytes(text)
        else:
            (folder / name).write_text(text)


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[bytes]]]:
    """A webhook receiver on loopback: every POST's body, answered 204."""
    got: queue.Queue[bytes] = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            got.put(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/hook" % server.server_address[1], got
    finally:
        server.shutdown()
        server.server_close()


def _received(got: queue.Queue[bytes], count: int) -> list[bytes]:
    return [got.get(timeout=30) for _ in range(count)]


def test_damaged_outbox_files_are_set_aside_and_the_server_listens(tmp_path, receiver):
    url, got = receiver
    for uuid in ("ended", "numberurl", "good"):
        _finished(tmp_path, uuid)
    outbox = tmp_path / "webhooks"
    _write(outbox / "armed", {**_ARMED_BAD, "good.json": json.dumps(
        {"uuid": "good", "url": url, "armed": 1})})
    kept = {"id": message_id("kept"), "uuid": "kept", "url": url, "body": '{"kept": 1}',
            "created": time.time()}
    _write(outbox / "pending", {**_PENDING_BAD, "msg_kept.json": json.dumps(kept)})

    proc, base = _start(tmp_path, "--model-name", "compatmod", "--webhook-private",
                        "--webhook-allow", "http://127.0.0.1:*/*")
    try:
        assert _get(base + "/v2/")[0] == 200
        bodies = _received(got, 2)  # the good armed job's record, and the kept delivery
    finally:
        code, _ = _stop(proc, signal.SIGTERM)
    out = proc.stdout.read()
    assert code == 0, out
    assert sorted(json.loads(body).get("uuid", "kept") for body in bodies) == ["good", "kept"]
    assert got.empty()  # nothing from the damaged files
    for folder, names in (("armed", _ARMED_BAD), ("pending", _PENDING_BAD)):
        for name in names:
            path = outbox / folder / name
            assert not path.exists() and path.with_name(name + ".damaged").exists(), name
            lines = [line for line in out.splitlines() if str(path) in line]
            assert len(lines) == 1 and "damaged" in lines[0], (name, out)
    assert "Traceback" not in out


def test_damaged_job_records_are_left_out_and_the_server_listens(tmp_path):
    _finished(tmp_path, "zoned", date="2024-01-01T10:00:00+02:00")  # used: made local
    _finished(tmp_path, "plain")
    _finished(tmp_path, "moved", uuid="elsewhere")
    _finished(tmp_path, "mistyped", args=[1, 2])
    _write(tmp_path / "jobs" / "listed", {"record.json": "[]"})
    _write(tmp_path / "jobs" / "plain", {"metrics.jsonl": b"\xff\xfe\n[1]\n{\"loss\": 1}\n"})
    proc, base = _start(tmp_path, "--model-name", "compatmod")
    try:
        status, listing = _get(base + "/v2/models/compatmod/train/")
        assert status == 200
        status, plain = _get(base + "/v2/models/compatmod/train/plain")
        assert status == 200
    finally:
        code, _ = _stop(proc, signal.SIGTERM)
    out = proc.stdout.read()
    assert code == 0, out
    assert sorted(job["uuid"] for job in json.loads(listing)) == ["plain", "zoned"]
    for uuid in ("moved", "mistyped", "listed"):
        lines = [line for line in out.splitlines() if "jobs/%s/record.json" % uuid in line]
        assert len(lines) == 1 and "left out" in lines[0], (uuid, out)
    assert "Traceback" not in out


def test_an_unexpected_start_up_error_exits_with_one_line(tmp_path):
    # The outbox cannot be written: its pending folder is a file. Any error start-up did not
    # foresee would do: it ended in a traceback over a process that never listened nor exited.
    _finished(tmp_path, "ended")
    _write(tmp_path / "webhooks" / "armed", {"ended.json": json.dumps(
        {"uuid": "ended", "url": "http://127.0.0.1:1/hook", "armed": 1})})
    (tmp_path / "webhooks" / "pending").write_text("a file where a folder belongs")
    try:
        done = subprocess.run(
            [str(BIN), "--model-name", "compatmod", "--listen-port", "0", "--data-dir",
             str(tmp_path), "--webhook-private", "--webhook-allow", "http://127.0.0.1:*/*"],
            capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError("deepaas-run neither served nor exited: %s" % exc.stderr) from None
    said = [line for line in done.stderr.splitlines() if line.startswith("deepaas-run:")]
    assert done.returncode == 1, done.stderr
    assert len(said) == 1 and "FileExistsError" in said[0], done.stderr
    assert "Traceback" not in done.stderr

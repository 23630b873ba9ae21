"""A real deepaas-run: a delivery queued under one address policy is sent, or not, by the
policy in force when it is sent, after a restart too."""

from __future__ import annotations

import glob
import json
import signal
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cmd.test_run import BIN, _free_port, _start, _stop

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="deepaas-run is not installed")
ALLOW = ("--model-name", "compatmod", "--webhook-allow", "http://127.0.0.1:*")


class _Hooks(BaseHTTPRequestHandler):
    """Records the path of each POST; answers 204."""

    received: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _pending(data_dir: Path) -> list[dict]:
    found = []
    for name in glob.glob(str(data_dir / "webhooks" / "pending" / "*.json")):
        try:
            found.append(json.loads(Path(name).read_text()))
        except (OSError, ValueError):
            pass  # replaced while read: read again at the next poll
    return found


def _wait(condition, what: str, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.1)


def test_a_delivery_queued_under_webhook_private_is_not_sent_without_it(tmp_path: Path
                                                                        ) -> None:
    receiver_port = _free_port()
    url = "http://127.0.0.1:%d/hook" % receiver_port  # nothing listens there yet
    proc, base = _start(tmp_path, *ALLOW, "--webhook-private")
    try:
        request = urllib.request.Request(base + "/v2/models/compatmod/train/?epochs=1",
                                         method="POST", headers={"Webhook-URL": url})
        with urllib.request.urlopen(request, timeout=10) as resp:
            uuid = json.loads(resp.read())["uuid"]
        # The training ends, the first attempt fails (the receiver is down): pending.
        _wait(lambda: any(p["attempts"] >= 1 for p in _pending(tmp_path)), "a failed attempt")
    finally:
        _stop(proc, signal.SIGTERM)
    assert [p["uuid"] for p in _pending(tmp_path)] == [uuid]

    _Hooks.received = []
    server = ThreadingHTTPServer(("127.0.0.1", receiver_port), _Hooks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proc, base = _start(tmp_path, *ALLOW)  # --webhook-private is gone
        try:
            # The next attempt is due a few seconds after the first: then it is judged.
            _wait(lambda: not _pending(tmp_path), "the delivery to leave the outbox")
        finally:
            _stop(proc, signal.SIGTERM)
    finally:
        server.shutdown()
        server.server_close()
    out = proc.stdout.read()
    assert _Hooks.received == []
    dropped = [line for line in out.splitlines() if "dropped msg_" + uuid in line]
    assert len(dropped) == 1, out
    assert "job " + uuid in dropped[0] and "loopback address" in dropped[0], dropped

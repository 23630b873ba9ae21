"""Webhooks on their own: signed deliveries to a real receiver, retries, restarts, refusals."""

from __future__ import annotations

import json
import time
import uuid as uuids
from pathlib import Path
from typing import Any

import pytest

from deepaas.exceptions import ConfigError, WebhookRefused
from deepaas.webhooks import WebhookOptions, Webhooks
from deepaas.webhooks.outbox import Outbox
from tests.helpers import eventually
from tests.webhooks.receiver import Received, start_receiver, verify

LOCAL = ("http://127.0.0.1:*",)
RECORD = {"date": "2026-01-01 00:00:00.000000", "args": {"x": 1}, "uuid": "", "status": "done",
          "result": {"output": {"loss": 0.5, "name": "été"}}}


def _options(**overrides: Any) -> WebhookOptions:
    values: dict[str, Any] = {"patterns": LOCAL, "private": True, "secret": "plain secret",
                              "timeout": 5.0, "backoff": 0.01, "max_backoff": 0.05}
    values.update(overrides)
    return WebhookOptions(**values)


def _job() -> tuple[str, dict[str, Any]]:
    uuid = uuids.uuid4().hex
    return uuid, {**RECORD, "uuid": uuid}


async def _until(condition: Any, timeout: float = 10.0) -> None:
    await eventually(condition, "the condition", timeout)


async def _one_delivery(aiohttp_server: Any, tmp_path: Path, secret: str
                        ) -> tuple[str, dict[str, Any], Received]:
    """Arm a job, end it, and answer (uuid, record, what arrived) once the outbox is empty."""
    receiver = await start_receiver(aiohttp_server)
    hooks = Webhooks(_options(secret=secret), tmp_path)
    await hooks.start()
    try:
        uuid, record = _job()
        await hooks.arm(uuid, receiver.url)
        await hooks.ended(uuid, record)
        got = await receiver.next()
        await _until(lambda: not list(tmp_path.rglob("*.json")))
    finally:
        await hooks.close()
    return uuid, record, got


@pytest.mark.parametrize("secret", ["plain secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
async def test_a_signed_record_arrives(aiohttp_server: Any, tmp_path: Path, secret: str) -> None:
    uuid, record, got = await _one_delivery(aiohttp_server, tmp_path, secret)
    assert json.loads(got.body) == record
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == "msg_" + uuid
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    assert verify(secret, got)
    assert not verify("another secret", got)


async def test_without_a_secret_deliveries_are_unsigned(aiohttp_server: Any,
                                                         tmp_path: Path) -> None:
    _, _, got = await _one_delivery(aiohttp_server, tmp_path, "")
    assert "webhook-signature" not in got.headers and got.headers["webhook-id"]


async def test_jobs_not_armed_send_nothing(aiohttp_server: Any, tmp_path: Path) -> None:
    receiver = await start_receiver(aiohttp_server)
    hooks = Webhooks(_options(), tmp_path)
    await hooks.start()
    try:
        uuid, record = _job()
        await hooks.ended(uuid, record)
        other, record = _job()
        await hooks.arm(other, receiver.url)
        await hooks.ended(other, record)
        await receiver.next()
        await hooks.ended(other, record)  # a second end of one job: no second delivery
    finally:
        await hooks.close()
    assert [r.headers["webhook-id"] for r in receiver.received] == ["msg_" + other]


async def test_failures_are_retried_with_the_same_id(aiohttp_server: Any,
                                                     tmp_path: Path) -> None:
    receiver = await start_receiver(aiohttp_server, statuses=(500, 503, 302))
    hooks = Webhooks(_options(), tmp_path)
    await hooks.start()
    try:
        uuid, record = _job()
        await hooks.arm(uuid, receiver.url)
        await hooks.ended(uuid, record)
        await receiver.next()
    finally:
        await hooks.close()
    assert len(receiver.received) == 4  # a redirect is a failure too: never followed
    assert {r.headers["webhook-id"] for r in receiver.received} == {"msg_" + uuid}
    assert all(verify("plain secret", r) for r in receiver.received)


async def test_a_receiver_that_never_answers_2xx_is_given_up(aiohttp_server: Any,
                                                             tmp_path: Path) -> None:
    receiver = await start_receiver(aiohttp_server, statuses=(500,) * 1000)
    hooks = Webhooks(_options(give_up_after=0.2), tmp_path)
    await hooks.start()
    try:
        uuid, record = _job()
        await hooks.arm(uuid, receiver.url)
        await hooks.ended(uuid, record)
        await _until(lambda: receiver.received and not list(tmp_path.rglob("*.json")))
    finally:
        await hooks.close()
    assert len(receiver.received) >= 2


async def test_a_pending_delivery_survives_a_restart(aiohttp_server: Any,
                                                     tmp_path: Path) -> None:
    receiver = await start_receiver(aiohttp_server, statuses=(500,) * 1000)
    first = Webhooks(_options(), tmp_path)
    await first.start()
    uuid, record = _job()
    await first.arm(uuid, receiver.url)
    await first.ended(uuid, record)
    await _until(lambda: len(receiver.received) >= 2)
    await first.close()
    pending = json.loads((tmp_path / "pending" / ("msg_%s.json" % uuid)).read_text())
    assert pending["attempts"] >= 1 and pending["url"] == receiver.url

    receiver.statuses.clear()  # the receiver is back
    second = Webhooks(_options(), tmp_path)
    await second.start()
    try:
        got = await receiver.next()
    finally:
        await second.close()
    assert got.headers["webhook-id"] == "msg_" + uuid and json.loads(got.body) == record


async def test_jobs_that_ended_while_the_server_was_down_are_delivered(
        aiohttp_server: Any, tmp_path: Path) -> None:
    receiver = await start_receiver(aiohttp_server)
    ended, record = _job()
    running, _ = _job()
    first = Webhooks(_options(), tmp_path)  # never started: armed, then the server stops
    await first.arm(ended, receiver.url)
    await first.arm(running, receiver.url)

    async def lookup(uuid: str) -> dict[str, Any] | None:
        return record if uuid == ended else None  # the other one still runs

    second = Webhooks(_options(), tmp_path, lookup)
    await second.start()
    try:
        got = await receiver.next()
    finally:
        await second.close()
    assert json.loads(got.body) == record and verify("plain secret", got)
    assert [p.stem for p in (tmp_path / "armed").glob("*.json")] == [running]


async def test_ended_writes_to_disk_after_close(tmp_path: Path) -> None:
    # Trainings stopped at shutdown end after the sender stopped: their deliveries wait.
    hooks = Webhooks(_options(), tmp_path)
    await hooks.start()
    uuid, record = _job()
    await hooks.arm(uuid, "http://127.0.0.1:9/hook")
    await hooks.close()
    await hooks.ended(uuid, record)
    saved = json.loads((tmp_path / "pending" / ("msg_%s.json" % uuid)).read_text())
    assert json.loads(saved["body"]) == record and saved["attempts"] == 0
    assert not list((tmp_path / "armed").glob("*.json"))


async def test_refusals(tmp_path: Path) -> None:
    off = Webhooks(WebhookOptions(), tmp_path)
    with pytest.raises(WebhookRefused, match="webhooks are off"):
        await off.check("https://example.org/hook")
    public = Webhooks(WebhookOptions(patterns=("https://hooks.example.org/in",
                                               "http://127.0.0.1:*")), tmp_path)
    refused = {
        "ftp://hooks.example.org/in": "not an http",
        "https://other.example.org/in": "host other.example.org is not allowed",
        "https://hooks.example.org:8443/in": "port 8443",
        "https://hooks.example.org/out": "path /out",
        "https://user:pw@hooks.example.org/in": "credentials",
        "http://127.0.0.1:8080/hook": "loopback address",
        "not a url": "not an http",
    }
    for url, reason in refused.items():
        with pytest.raises(WebhookRefused, match=reason) as caught:
            await public.check(url)
        assert caught.value.status == 422 and "pw" not in caught.value.message
    private = Webhooks(WebhookOptions(patterns=("http://127.0.0.1:*",), private=True), tmp_path)
    await private.check("http://127.0.0.1:8080/hook")


def test_bad_options_fail_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--webhook-allow"):
        Webhooks(WebhookOptions(patterns=("webdavs://cloud.example.org",)), tmp_path)
    with pytest.raises(ConfigError, match="--webhook-allow"):
        Webhooks(WebhookOptions(patterns=("https://",)), tmp_path)
    with pytest.raises(ConfigError, match="--webhook-secret"):
        Webhooks(WebhookOptions(patterns=LOCAL, secret="whsec_not base64!"), tmp_path)
    assert "hush" not in repr(WebhookOptions(secret="hush"))


async def test_the_address_is_checked_again_at_connect_time(aiohttp_server: Any,
                                                            tmp_path: Path) -> None:
    # A name that resolved to a public address at submit time resolves to loopback now
    # (DNS rebinding): the check before the attempt refuses it, and the connection would be
    # (GuardedResolver, tested in tests/storage/test_fetch_http.py); nothing arrives.
    receiver = await start_receiver(aiohttp_server)
    url = receiver.url.replace("127.0.0.1", "localhost")
    hooks = Webhooks(_options(patterns=("http://localhost:*",), private=False,
                              give_up_after=0.1), tmp_path)
    await hooks.start()
    try:
        uuid, record = _job()
        Outbox(tmp_path).arm(uuid, url)  # as check() would have let it be armed
        await hooks.ended(uuid, record)
        await _until(lambda: not list(tmp_path.rglob("*.json")))  # tried, then given up
    finally:
        await hooks.close()
    assert not receiver.received

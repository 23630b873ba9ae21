"""A webhook receiver for the tests: a real aiohttp server that records each POST and answers
the statuses a test sets, and an independent check of Standard Webhooks signatures."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
from typing import Any

from aiohttp import web

__all__ = ["Receiver", "Received", "start_receiver", "verify", "on_loopback"]


@dataclasses.dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers each POST to ``/hook`` with the next of ``statuses`` (then 204)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.statuses = list(statuses)
        self.received: list[Received] = []
        self.accepted: asyncio.Queue[Received] = asyncio.Queue()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        got = Received({k.lower(): v for k, v in request.headers.items()}, await request.read())
        self.received.append(got)
        status = self.statuses.pop(0) if self.statuses else 204
        if 200 <= status < 300:
            self.accepted.put_nowait(got)
        return web.Response(status=status)

    async def next(self, timeout: float = 20.0) -> Received:
        """The next delivery answered 2xx."""
        return await asyncio.wait_for(self.accepted.get(), timeout)


async def start_receiver(aiohttp_server: Any, statuses: tuple[int, ...] = ()) -> Receiver:
    receiver = Receiver(statuses)
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app)
    receiver.url = "http://127.0.0.1:%d/hook" % server.port
    return receiver


def verify(secret: str, got: Received) -> bool:
    """Check the signature as a receiver would, written from the convention, not our code."""
    if secret.startswith("whsec_"):
        key = base64.b64decode(secret[len("whsec_"):])
    else:
        key = secret.encode("utf-8")
    signed = b"%s.%s.%s" % (got.headers["webhook-id"].encode(),
                            got.headers["webhook-timestamp"].encode(), got.body)
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return got.headers["webhook-signature"] == "v1," + expected


def on_loopback(secret: str) -> dict[str, Any]:
    """Settings overrides: webhooks on, to this machine's receivers, signed with ``secret``."""
    return {"webhook_allow": ("http://127.0.0.1:*",), "webhook_private": True,
            "webhook_secret": secret}

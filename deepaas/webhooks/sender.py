"""One attempt at a delivery: a signed POST, answered 2xx or not."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from deepaas import __version__
from deepaas.exceptions import RemoteRefused
from deepaas.storage import addresses
from deepaas.storage.policy import redact
from deepaas.webhooks.outbox import Delivery
from deepaas.webhooks.signing import sign

__all__ = ["Sender", "delivery_headers"]


def delivery_headers(delivery: Delivery, key: bytes | None, timestamp: int) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (the signature only with a key)."""
    headers = {"Content-Type": "application/json", "User-Agent": "deepaas/" + __version__,
               "webhook-id": delivery.id, "webhook-timestamp": str(timestamp)}
    if key is not None:
        headers["webhook-signature"] = sign(key, delivery.id, timestamp, delivery.body)
    return headers


class Sender:
    """Posts deliveries over one aiohttp session, made on the running loop at first use.

    Without ``private``, every address connected to is checked as the client's URL was when
    it was submitted (DNS may answer otherwise by then). Redirects are not followed: a
    receiver that moved is answering 3xx, a failure retried like any other, and a redirect can
    lead nowhere the patterns did not allow.
    """

    def __init__(self, key: bytes | None, timeout: float, private: bool) -> None:
        self._key = key
        self._timeout = timeout
        self._private = private
        self._session: aiohttp.ClientSession | None = None

    async def post(self, delivery: Delivery) -> str | None:
        """Make one attempt: None when the receiver answered 2xx, else what went wrong."""
        headers = delivery_headers(delivery, self._key, int(time.time()))
        try:
            async with self._client().post(delivery.url, data=delivery.body.encode("utf-8"),
                                           headers=headers, allow_redirects=False) as answer:
                if 200 <= answer.status < 300:
                    return None
                return "answered %d %s" % (answer.status, answer.reason or "")
        except asyncio.TimeoutError:
            return "no answer within %gs" % self._timeout
        except RemoteRefused as exc:  # the resolver's guard: an internal address now
            return exc.message
        except Exception as exc:  # a connection error, or anything else: retried all the same
            return "%s: %s" % (type(exc).__name__, _cause(exc, delivery.url))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            resolver = None if self._private else addresses.GuardedResolver()
            # trust_env=False: no proxy and no .netrc from the server's environment.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver),
                timeout=aiohttp.ClientTimeout(total=self._timeout), trust_env=False)
        return self._session


def _cause(exc: BaseException, url: str) -> str:
    """The exception's message, the URL in it without credentials (none are accepted; a
    second guard costs nothing)."""
    text = str(exc) or str(exc.__cause__ or "") or "failed"
    return text.replace(url, redact(url))

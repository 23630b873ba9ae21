"""Webhooks: when a job a client armed ends, its record is POSTed to the client's URL.

The life of one webhook: the handler checks the client's ``Webhook-URL`` before submitting
(:meth:`Webhooks.check`, a 422 when refused) and arms it with the new job's uuid
(:meth:`Webhooks.arm`); when the job ends, its manager hands the record to
:meth:`Webhooks.ended`, which turns it into a pending delivery on disk; one background task
posts it, signed, and retries with exponential backoff until a 2xx answer or until
``give_up_after`` has passed. Armed jobs and pending deliveries are files
(:mod:`deepaas.webhooks.outbox`), so a restart loses neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from deepaas.model.outputs import dumps
from deepaas.storage.policy import redact
from deepaas.webhooks.destinations import Destinations
from deepaas.webhooks.outbox import Delivery, Outbox, message_id
from deepaas.webhooks.sender import Sender
from deepaas.webhooks.signing import secret_key

__all__ = ["Webhooks", "WebhookOptions", "Lookup"]

_log = logging.getLogger(__name__)

#: The record of a job if it has ended (any terminal state), else None: how :meth:`start`
#: finds what jobs armed before a restart became while the server was down.
Lookup = Callable[[str], Awaitable[dict[str, Any] | None]]


@dataclasses.dataclass(frozen=True)
class WebhookOptions:
    """What :class:`Webhooks` needs of the configuration; times in seconds."""

    patterns: tuple[str, ...] = ()  # --webhook-allow; none: webhooks are off
    private: bool = False  # --webhook-private
    secret: str = dataclasses.field(default="", repr=False)  # --webhook-secret; "": unsigned
    timeout: float = 10.0  # one attempt, connection included
    backoff: float = 5.0  # the first retry's delay; each next one doubles it...
    max_backoff: float = 3600.0  # ...up to this
    give_up_after: float = 24 * 3600.0  # after the job's end; past one hour, as promised
    concurrency: int = 8  # attempts in flight at once


class Webhooks:
    """Checks, arms, persists and delivers webhooks; see the module's docstring.

    ``folder`` holds the outbox (``DATA_DIR/webhooks``); ``lookup`` answers the records of
    jobs armed before a restart.
    """

    def __init__(self, options: WebhookOptions, folder: Path,
                 lookup: Lookup | None = None) -> None:
        self._options = options
        self._destinations = Destinations(options.patterns, options.private)  # ConfigError
        key = secret_key(options.secret) if options.secret else None
        self._sender = Sender(key, options.timeout, options.private)
        self._outbox = Outbox(folder)
        self._lookup = lookup
        self._pending: dict[str, Delivery] = {}
        self._flying: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._ending = asyncio.Lock()  # one job's end at a time: armed -> pending, once
        self._slots = asyncio.Semaphore(max(1, options.concurrency))
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """Whether clients may name a Webhook-URL (``--webhook-allow``)."""
        return self._destinations.enabled

    # --- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the pending deliveries, deliver those of jobs that ended while the server was
        down, and start sending. Start it after the job managers: ``lookup`` reads them."""
        if not self.enabled:
            left = await asyncio.to_thread(self._outbox.pending)
            if left:
                _log.warning("webhooks: %d deliveries are pending, but webhooks are off "
                             "(no --webhook-allow): they wait on disk", len(left))
            return
        await asyncio.to_thread(self._outbox.sweep)
        for delivery in await asyncio.to_thread(self._outbox.pending):
            self._pending[delivery.id] = delivery
        self._task = asyncio.create_task(self._run(), name="webhooks")
        for uuid in await asyncio.to_thread(self._outbox.armed):
            await self._catch_up(uuid)

    async def close(self) -> None:
        """Stop sending; what is pending stays on disk for the next start, and :meth:`ended`
        still writes there."""
        tasks = [t for t in (self._task, *self._flying.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        await self._sender.close()

    # --- what handlers and job managers call -------------------------------------------------

    async def check(self, url: str) -> None:
        """Raise :class:`~deepaas.exceptions.WebhookRefused` (422) unless the server may post
        to ``url``; call it before the job is submitted."""
        await self._destinations.check(url)

    async def arm(self, uuid: str, url: str) -> None:
        """When job ``uuid`` ends, its record goes to ``url`` (already checked). Persisted
        before it returns: a restart keeps it.

        A job may end before it is armed (a training that cannot start, a quick prediction):
        its manager's call to :meth:`ended` found nothing armed then, so the record is looked
        up once armed. Whichever comes second finds nothing to do: one delivery either way.
        """
        await asyncio.to_thread(self._outbox.arm, uuid, url)
        await self._catch_up(uuid)

    async def ended(self, uuid: str, record: dict[str, Any]) -> None:
        """Job ``uuid`` ended with ``record``: if it is armed, deliver the record (as JSON)
        from now on. Written to disk before it returns, whether the sender runs or not."""
        async with self._ending:
            url = await asyncio.to_thread(self._outbox.armed_url, uuid)
            if url is None:
                return
            delivery = Delivery(id=message_id(uuid), uuid=uuid, url=url, body=dumps(record),
                                created=time.time())
            await asyncio.to_thread(self._persist, delivery)
        self._pending.setdefault(delivery.id, delivery)  # pending since before a restart: kept
        self._wake.set()

    def _persist(self, delivery: Delivery) -> None:
        # Pending first, then disarmed: a crash between them leaves both, and the next start
        # finds the delivery already there (same id) instead of a job's end forgotten.
        if not self._outbox.has(delivery.id):
            self._outbox.save(delivery)
        self._outbox.disarm(delivery.uuid)

    async def _catch_up(self, uuid: str) -> None:
        """Deliver the record of an armed job that ended while this server was down (or that
        the job manager's start closed as stopped)."""
        if self._lookup is None:
            return
        try:
            record = await self._lookup(uuid)
        except Exception:
            _log.exception("webhooks: cannot look up job %s", uuid)
            return
        if record is not None:
            await self.ended(uuid, record)

    # --- sending -------------------------------------------------------------------------------

    async def _run(self) -> None:
        """Start an attempt for every delivery that is due; sleep until the next is due or a
        new one arrives."""
        while True:
            self._wake.clear()
            now = time.time()
            waiting = [d for d in self._pending.values() if d.id not in self._flying]
            for delivery in waiting:
                if delivery.next_attempt <= now:
                    self._flying[delivery.id] = asyncio.create_task(
                        self._attempt(delivery), name="webhook-" + delivery.id)
            later = [d.next_attempt for d in waiting if d.next_attempt > now]
            timeout = min(later) - now if later else None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _attempt(self, delivery: Delivery) -> None:
        try:
            async with self._slots:
                problem = await self._destinations.refusal(delivery.url)
                if problem is not None:  # the operator narrowed the address policy since
                    _log.error("webhooks: dropped %s for job %s, not allowed now: %s",
                               delivery.id, delivery.uuid, problem)
                    await self._forget(delivery)
                    return
                problem = await self._sender.post(delivery)  # never raises: says what failed
            if problem is None:
                _log.info("webhooks: delivered %s (job %s) to %s", delivery.id, delivery.uuid,
                          redact(delivery.url))
                await self._forget(delivery)
            else:
                await self._failed(delivery, problem)
        except Exception:  # the outbox could not be written (a full disk): later, not at once
            _log.exception("webhooks: %s (job %s) is stuck", delivery.id, delivery.uuid)
            delivery.next_attempt = time.time() + self._delay(max(delivery.attempts, 1))
        finally:
            self._flying.pop(delivery.id, None)
            self._wake.set()

    async def _failed(self, delivery: Delivery, problem: str) -> None:
        delivery.attempts += 1
        now = time.time()
        if now - delivery.created >= self._options.give_up_after:
            _log.error("webhooks: gave up on %s (job %s) to %s after %d attempts: %s",
                       delivery.id, delivery.uuid, redact(delivery.url), delivery.attempts,
                       problem)
            await self._forget(delivery)
            return
        delay = self._delay(delivery.attempts)
        delivery.next_attempt = now + delay
        _log.warning("webhooks: attempt %d of %s (job %s) to %s failed (%s); next in %.0fs",
                     delivery.attempts, delivery.id, delivery.uuid, redact(delivery.url),
                     problem, delay)
        await asyncio.to_thread(self._outbox.save, delivery)

    def _delay(self, attempts: int) -> float:
        """Exponential backoff with jitter, so that the deliveries a receiver's outage held
        back do not all come back at the same moment."""
        base = self._options.backoff * 2 ** min(attempts - 1, 60)
        return min(base, self._options.max_backoff) * random.uniform(0.8, 1.2)

    async def _forget(self, delivery: Delivery) -> None:
        self._pending.pop(delivery.id, None)
        await asyncio.to_thread(self._outbox.remove, delivery.id)

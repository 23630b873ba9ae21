"""Asynchronous predictions (``Prefer: respond-async``): submit, get, list, cancel, expire.

A prediction submitted here goes into the model's usual prediction line (the same bounded
queue, batching, timeout and runners as a synchronous one, through the injected ``run``); its
record is kept in the job store from the start, so that any server sharing the store answers
for it and a restart finds it. No aiohttp in here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from deepaas.exceptions import DeepaasError, PredictionNotFound, ServerStopping, summary_of
from deepaas.jobs.active import display_args
from deepaas.jobs.prediction_records import STOPPED, PredictionRecord, PredictionStore, shown
from deepaas.jobs.records import JobStatus, new_job_id
from deepaas.model.outputs import Answer
from deepaas.model.streams import gather
from deepaas.model.wrapper import ModelWrapper

__all__ = ["AsyncPredictions", "PredictionRecord", "Run", "OnEnd", "STOPPED"]

LOG = logging.getLogger(__name__)

#: How a prediction runs: ``run(model, kwargs, accept, release)``, the server's prediction
#: line (:meth:`deepaas.workers.service.Predictions.predict`); ``release`` frees the inputs.
Run = Callable[[ModelWrapper, dict[str, Any], str | None, Callable[[], None] | None],
               Awaitable[Answer]]
#: Told of each ending once it is stored: the uuid and the record as the API shows it.
OnEnd = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclasses.dataclass
class _Live:
    """A prediction this server runs, and what only the manager knows of it."""

    record: PredictionRecord
    task: asyncio.Task[None] | None = None
    submitting: bool = True  # its first step is the line's admission: a failure there refuses
    refusal: BaseException | None = None
    cancelled: bool = False  # by a client: ends "cancelled"; else a stop ends it in error
    ending: bool = False  # its end is being recorded: too late to cancel
    stored: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    ended: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)


class AsyncPredictions:
    """The one owner of asynchronous prediction records.

    ``keep_days``: records are removed that long after they ended (0: kept forever), checked
    at :meth:`start` and every ``sweep_every`` seconds. ``replica_id`` names this server in
    the store; over a ``shared`` store, running records of a server silent for ``stale_after``
    seconds are closed as error (over a store of its own, all of them, at start).
    """

    def __init__(self, store: PredictionStore, run: Run, keep_days: float, replica_id: str,
                 on_end: OnEnd | None = None, *, shared: bool = False,
                 stale_after: float = 15.0, sweep_every: float = 3600.0, base_path: str = "",
                 clock: Callable[[], datetime.datetime] = datetime.datetime.now) -> None:
        self._store = store
        self._run = run
        self._keep = datetime.timedelta(days=keep_days) if keep_days > 0 else None
        self._replica = replica_id
        self.on_end = on_end
        self._shared = shared
        self._stale_after = stale_after
        self._sweep_every = sweep_every
        self._base_path = base_path
        self._clock = clock
        self._live: dict[str, _Live] = {}
        self._unsaved: dict[str, PredictionRecord] = {}  # ended while the store failed
        self._sweeper: asyncio.Task[None] | None = None
        self._closing = False

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Close as error what a stopped server left running, remove expired records, and
        keep doing both (over a shared store) every ``sweep_every`` seconds. The job store
        must be open."""
        try:
            await self._close_orphans()
            await self._expire()
        except Exception:  # the job store opened: a failure here is passing, swept again later
            LOG.exception("could not sweep the asynchronous predictions' records at start")
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="predictions-sweep")

    async def close(self) -> None:
        """Stop every running prediction (server shutdown), each recorded as error."""
        self._closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for live in list(self._live.values()):
            if live.task is not None and not live.ending:
                live.task.cancel()
        await asyncio.gather(*(live.ended.wait() for live in list(self._live.values())))
        await self._save_unsaved()

    # --- submit and run ----------------------------------------------------------------------

    async def submit(self, model: ModelWrapper, kwargs: dict[str, Any], accept: str | None,
                     release: Callable[[], None] | None = None,
                     urls: dict[str, str] | None = None) -> PredictionRecord:
        """Record a prediction as running and start it; answers at once.

        What the model's line refuses (it is full: ``Overloaded``; the model failed to
        start) is raised here, as the synchronous path answers it, and nothing is recorded.
        ``release`` is called once the prediction no longer needs its inputs.
        """
        if self._closing:
            raise ServerStopping()
        record = PredictionRecord(uuid=new_job_id(), model=model.name, date=self._clock(),
                                  args=display_args(model.predict_args, kwargs, urls),
                                  owner=self._replica)
        live = _Live(record)
        self._live[record.uuid] = live
        live.task = asyncio.create_task(self._run_one(live, model, kwargs, accept, release),
                                        name="predict-async-%s" % record.uuid)
        # One step of the loop runs the task into the model's line, which admits or refuses
        # it there and then: the line alone decides, exactly as for a synchronous request.
        await asyncio.sleep(0)
        live.submitting = False
        if live.refusal is not None:
            self._live.pop(record.uuid, None)
            live.ended.set()
            raise live.refusal
        try:
            await self._store.put(record)
        except Exception:  # its ending writes the whole row again
            LOG.exception("could not store asynchronous prediction %s", record.uuid)
        finally:
            live.stored.set()
        return record

    async def _run_one(self, live: _Live, model: ModelWrapper, kwargs: dict[str, Any],
                       accept: str | None, release: Callable[[], None] | None) -> None:
        record = live.record
        try:
            answer = await self._run(model, kwargs, accept, release)
            if getattr(answer, "stream", None) is not None:
                answer = await gather(answer)
        except asyncio.CancelledError:
            if live.submitting:  # cancelled before the line took it: it never will
                if release is not None:
                    release()
                raise
            cancelled = live.cancelled
            await self._end(live, JobStatus.CANCELLED if cancelled else JobStatus.ERROR,
                            None if cancelled else STOPPED)
            return
        except Exception as exc:
            if live.submitting:
                live.refusal = exc
                return
            message = exc.message if isinstance(exc, DeepaasError) else summary_of(exc)
            await self._end(live, JobStatus.ERROR, message)
            return
        if answer.is_json:
            record.result = answer.body.decode("utf-8")
        else:
            record.body, record.content_type = answer.body, answer.content_type
        await self._end(live, JobStatus.DONE)

    async def _end(self, live: _Live, status: JobStatus, message: str | None = None) -> None:
        """Record how it ended (once: a cancel arriving now is too late), then say so."""
        live.ending = True
        record = live.record
        record.end(status, self._clock(), message)
        try:
            await live.stored.wait()
            saved = await self._store.put(record)
        except Exception:
            LOG.exception("could not store the end of asynchronous prediction %s; kept in "
                          "memory until the store takes it", record.uuid)
            self._unsaved[record.uuid] = record
            saved = True
        finally:
            self._live.pop(record.uuid, None)
            live.ended.set()
        if saved:  # False: another server recorded its end first (a cancel there)
            await self._tell(record)

    async def _tell(self, record: PredictionRecord) -> None:
        if self.on_end is None:
            return
        try:
            await self.on_end(record.uuid, self.shown(record))
        except Exception:
            LOG.exception("on_end of asynchronous prediction %s failed", record.uuid)

    def shown(self, record: PredictionRecord) -> dict[str, Any]:
        """The record as the API answers it (:func:`~deepaas.jobs.prediction_records.shown`)."""
        return shown(record, self._base_path)

    # --- queries and cancel ------------------------------------------------------------------

    async def get(self, model: str, uuid: str, with_body: bool = False) -> PredictionRecord:
        """The record (404 if it is not one of ``model``'s predictions)."""
        live = self._live.get(uuid)
        found = live.record if live is not None else self._unsaved.get(uuid)
        if found is None:
            found = await self._store.get(uuid, with_body)
        if found is None or found.model != model:
            raise PredictionNotFound("no prediction %s for model %s" % (uuid, model))
        return found

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[PredictionRecord]:
        """A model's records, oldest first (without binary results)."""
        found = await self._store.find(model, statuses, limit, offset)
        return [self._unsaved.get(r.uuid, r) for r in found]

    async def result(self, model: str, uuid: str) -> tuple[bytes, str]:
        """A done prediction's answer body and its media type."""
        record = await self.get(model, uuid, with_body=True)
        if record.status is not JobStatus.DONE:
            raise PredictionNotFound("prediction %s has no result: it is %s"
                                     % (uuid, record.status.v2))
        if record.result is not None:
            return record.result.encode("utf-8"), "application/json"
        return record.body or b"", record.content_type or "application/octet-stream"

    async def cancel(self, model: str, uuid: str) -> PredictionRecord:
        """Cancel a running prediction: it leaves the model's line (one already running in a
        thread finishes there, unheard) and ends ``cancelled``. An ended one is as it was."""
        live = self._live.get(uuid)
        if live is not None and live.record.model == model:
            if not live.ending and not live.cancelled and live.task is not None:
                live.cancelled = True
                live.task.cancel()
            await live.ended.wait()
            return live.record
        record = await self.get(model, uuid)
        if record.status.is_terminal():
            return record
        # Another server (a shared store) runs it: its end is recorded here, and that
        # server's own, should it come, is refused (the first ending wins).
        record.end(JobStatus.CANCELLED, self._clock())
        if await self._store.put(record):
            await self._tell(record)
        return await self.get(model, uuid)

    # --- books of stopped servers, expiry ------------------------------------------------------

    async def _close_orphans(self) -> None:
        orphans = await self._store.orphans(self._stale_after if self._shared else None)
        closed = 0
        for record in orphans:
            if record.uuid in self._live:
                continue
            record.end(JobStatus.ERROR, self._clock(), STOPPED)
            if await self._store.put(record):
                closed += 1
                await self._tell(record)
        if closed:
            LOG.warning("%d asynchronous prediction(s) were interrupted by a server's stop",
                        closed)

    async def _expire(self) -> None:
        if self._keep is not None:
            removed = await self._store.expire(self._clock() - self._keep)
            if removed:
                LOG.info("removed %d asynchronous prediction record(s) older than the "
                         "--keep-predictions period", removed)

    async def _save_unsaved(self) -> None:
        for uuid, record in list(self._unsaved.items()):
            try:
                await self._store.put(record)
            except Exception as exc:
                LOG.error("asynchronous prediction %s: its end is still not stored (%s)",
                          uuid, summary_of(exc))
                return
            self._unsaved.pop(uuid, None)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_every)
            try:
                await self._save_unsaved()
                if self._shared:  # a store of its own was cleared at start
                    await self._close_orphans()
                await self._expire()
            except Exception:  # the database may be away for a while: next time
                LOG.exception("could not sweep the asynchronous predictions' records")

"""An asynchronous prediction's record, how the API shows it, and where records are kept.

A prediction asked with ``Prefer: respond-async`` is answered at once with this record; it is
kept in the job store (table ``predictions``, beside the trainings' ``jobs``) until
``--keep-predictions`` days after it ended. No aiohttp in here.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any, Protocol

from deepaas.jobs.records import JobStatus
from deepaas.jobs.v2record import DATE_FORMAT

__all__ = ["PredictionRecord", "PredictionStore", "shown", "result_path", "STOPPED"]

#: Why a prediction ended in error when its server stopped under it.
STOPPED = "the server stopped while this prediction was running"


@dataclasses.dataclass
class PredictionRecord:
    """One asynchronous prediction: what was asked, when, and how it ended.

    ``status`` is ``running`` until it ends ``done``, ``error`` or ``cancelled`` (never
    ``queued``: it waits in the model's prediction line like any other). A JSON answer is kept
    as its text in ``result`` (the body the synchronous path answers); any other answer as
    ``body`` with its ``content_type``. ``owner`` is the replica (server) that runs it.
    """

    uuid: str
    model: str
    args: dict[str, Any]
    date: datetime.datetime
    status: JobStatus = JobStatus.RUNNING
    start_date: datetime.datetime | None = None
    finish_date: datetime.datetime | None = None
    result: str | None = None
    body: bytes | None = None
    content_type: str | None = None
    message: str | None = None
    owner: str | None = None

    @property
    def duration(self) -> datetime.timedelta | None:
        return None if self.finish_date is None else self.finish_date - self.date

    def end(self, status: JobStatus, when: datetime.datetime, message: str | None = None
            ) -> None:
        """Close the record (its result, if any, set before)."""
        self.status, self.finish_date, self.message = status, when, message


def result_path(base_path: str, model: str, uuid: str) -> str:
    """Where a prediction's record is served; its binary result is at ``+ "/result"``."""
    return "%s/v2/models/%s/predictions/%s" % (base_path, model, uuid)


def _date(value: datetime.datetime) -> str:
    return value.strftime(DATE_FORMAT)


def shown(record: PredictionRecord, base_path: str = "") -> dict[str, Any]:
    """The record as the API answers it: uuid, model, status, date, args; start_date,
    finish_date and duration once known; ``result`` (the JSON answer, parsed) or
    ``result_url`` and ``content_type`` (a binary answer) when done; ``message`` on error."""
    out: dict[str, Any] = {"uuid": record.uuid, "model": record.model,
                           "status": record.status.v2, "date": _date(record.date),
                           "args": record.args}
    if record.start_date is not None:
        out["start_date"] = _date(record.start_date)
    if record.finish_date is not None:
        out["finish_date"] = _date(record.finish_date)
        out["duration"] = str(record.duration)
    if record.status is JobStatus.DONE:
        if record.result is not None:
            out["result"] = json.loads(record.result)
        else:
            out["result_url"] = result_path(base_path, record.model, record.uuid) + "/result"
            out["content_type"] = record.content_type
    elif record.status is JobStatus.ERROR:
        out["message"] = record.message or ""
    return out


class PredictionStore(Protocol):
    """Where prediction records live: the job store's database, a table of their own."""

    async def put(self, record: PredictionRecord) -> bool:
        """Insert or update the record, unless the stored one has ended (the first ending
        wins); False when it was kept as it was."""

    async def get(self, uuid: str, with_body: bool = False) -> PredictionRecord | None:
        """The record; its binary result only ``with_body``."""

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[PredictionRecord]:
        """A model's records, oldest first, without binary results."""

    async def orphans(self, stale_after: float | None) -> list[PredictionRecord]:
        """Running records whose owner stopped: with ``stale_after`` None (a store of this
        server alone) every running one; else those whose owner has sent no heartbeat for
        ``stale_after`` seconds (or is unknown)."""

    async def expire(self, before: datetime.datetime) -> int:
        """Remove the records that ended before ``before``; answers how many."""

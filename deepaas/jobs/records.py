"""The job record and its status. Only the job manager changes a record."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from typing import Any

__all__ = ["JobStatus", "Job", "new_job_id"]


class JobStatus(str, enum.Enum):
    """Where a training is in its life; the wire values are those of DEEPaaS 2.x."""

    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"

    def is_terminal(self) -> bool:
        return self is not JobStatus.RUNNING


def new_job_id() -> str:
    return uuid.uuid4().hex


@dataclasses.dataclass
class Job:
    """One training: what was asked, when, and how it ended."""

    uuid: str
    model: str
    args: dict[str, Any]
    date: datetime.datetime
    status: JobStatus = JobStatus.RUNNING
    finish_date: datetime.datetime | None = None
    output: Any = None
    message: str | None = None
    pid: int | None = None

    @property
    def duration(self) -> datetime.timedelta | None:
        return None if self.finish_date is None else self.finish_date - self.date

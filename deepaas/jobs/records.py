"""The job record and its status. Only the job manager changes a record."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import time
import uuid
from typing import Any

__all__ = ["JobStatus", "Job", "new_job_id", "fold_report", "end"]


class JobStatus(str, enum.Enum):
    """Where a training is in its life.

    ``queued`` is ours: DEEPaaS 2.x clients poll while the 2.x status is ``running``, so a
    queued job is shown to them as ``running`` with ``"queued": true`` and its position.
    """

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"

    def is_terminal(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED)

    @property
    def v2(self) -> str:
        """The status DEEPaaS 2.x clients understand."""
        return JobStatus.RUNNING.value if self is JobStatus.QUEUED else self.value


def new_job_id() -> str:
    return uuid.uuid4().hex


@dataclasses.dataclass
class Job:
    """One training: what was asked, when, how far it got and how it ended.

    ``progress`` holds the latest report (step, total, fraction, metric values, time);
    ``metrics`` the whole series of reports, oldest first. ``owner`` names the server
    (replica) that runs it, where several share one job store; ``files`` what it wrote to
    its output dir (and, with an output storage, where they were uploaded).
    """

    uuid: str
    model: str
    args: dict[str, Any]
    date: datetime.datetime
    status: JobStatus = JobStatus.QUEUED
    start_date: datetime.datetime | None = None
    finish_date: datetime.datetime | None = None
    output: Any = None
    message: str | None = None
    pid: int | None = None
    progress: dict[str, Any] | None = None
    owner: str | None = None
    #: What the training left in its output dir: ``{"name", "size"[, "url"]}`` each.
    files: list[dict[str, Any]] | None = None
    #: The computing resources it asked for (``cpus``, ``gpus``, ``memory``, ``site``) and
    #: where it was placed (``node``, ``site``, CPU and GPU ids, memory limit).
    resources: dict[str, Any] | None = None
    placement: dict[str, Any] | None = None
    metrics: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def duration(self) -> datetime.timedelta | None:
        return None if self.finish_date is None else self.finish_date - self.date


def fold_report(job: Job, report: dict[str, Any]) -> None:
    """Fold one ``deepaas.progress`` report into the record: latest values and the series."""
    raw = report.get("metrics")
    metrics: dict[str, Any] = raw if isinstance(raw, dict) else {}
    when = datetime.datetime.fromtimestamp(float(report.get("time") or time.time()))
    step, total = report.get("step"), report.get("total")
    point: dict[str, Any] = {"step": step, "time": when.isoformat(sep=" "), **metrics}
    job.metrics.append(point)
    progress = {"step": step, "total": total, **metrics, "time": point["time"]}
    if isinstance(step, (int, float)) and isinstance(total, (int, float)) and total > 0:
        progress["fraction"] = round(min(max(step / total, 0.0), 1.0), 4)
    job.progress = progress


def end(job: Job, status: JobStatus, output: Any = None, message: str | None = None) -> None:
    """Close the record: how the training ended, and when."""
    job.status, job.output, job.message = status, output, message
    job.finish_date = datetime.datetime.now()

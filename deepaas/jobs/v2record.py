"""The training record as DEEPaaS 2.x clients read it (HTTP answers and deepaas-cli output)."""

from __future__ import annotations

import datetime
from typing import Any

from deepaas.jobs.records import Job, JobStatus

__all__ = ["record", "DATE_FORMAT"]

DATE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def _date(value: datetime.datetime) -> str:
    return value.strftime(DATE_FORMAT)


def record(job: Job, position: int | None = None, with_metrics: bool = False) -> dict[str, Any]:
    """date, args, uuid, status (+ result or message), then what deepaas adds: the queue
    position of a waiting job, its latest progress, the files it left in its output dir and,
    on request, the metrics series."""
    out: dict[str, Any] = {"date": _date(job.date), "args": job.args, "uuid": job.uuid,
                           "status": job.status.v2}
    if job.status is JobStatus.DONE and job.finish_date is not None:
        out["result"] = {"output": job.output, "finish_date": _date(job.finish_date),
                         "duration": str(job.duration)}
    elif job.status is JobStatus.ERROR:
        out["message"] = job.message or ""
    elif job.finish_date is not None:
        out["finish_date"] = _date(job.finish_date)
    if job.status is JobStatus.QUEUED:
        out["queued"], out["position"] = True, position
    if job.progress is not None:
        out["progress"] = job.progress
    if job.files:
        out["files"] = job.files
    if job.resources is not None:
        out["resources"] = job.resources
    if job.placement is not None:
        out["placement"] = job.placement
    if with_metrics:
        out["metrics"] = job.metrics
    return out

"""The filters of a list of records in the query: the trainings' and the asynchronous
predictions' lists read them alike."""

from __future__ import annotations

from typing import Any

from deepaas.exceptions import InvalidInput
from deepaas.jobs.records import JobStatus

__all__ = ["list_filters"]


def list_filters(query: Any) -> tuple[tuple[JobStatus, ...], int | None, int]:
    """``?status=`` (repeatable or comma-separated), ``?limit=``, ``?offset=``; 422 if wrong."""
    errors: dict[str, list[str]] = {}
    statuses: list[JobStatus] = []
    for text in ",".join(query.getall("status", [])).split(","):
        if not text.strip():
            continue
        try:
            status = JobStatus(text.strip())
        except ValueError:
            errors["status"] = ["Must be one of: %s." % ", ".join(s.value for s in JobStatus)]
            continue
        # Queued trainings show as "running" to 2.x clients, so they filter as running too.
        statuses += [status, JobStatus.QUEUED] if status is JobStatus.RUNNING else [status]
    numbers = {}
    for name, default in (("limit", None), ("offset", 0)):
        raw = query.get(name)
        if raw is None:
            numbers[name] = default
        elif raw.isdigit() and len(raw) <= 9:
            numbers[name] = int(raw)
        else:
            errors[name] = ["Must be a whole number from 0 to 999999999."]
    if errors:
        raise InvalidInput(errors)
    return tuple(dict.fromkeys(statuses)), numbers["limit"], numbers["offset"] or 0

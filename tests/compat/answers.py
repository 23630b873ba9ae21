"""Sending a case (the refdiff case format) and reducing the answer to what is compared.

Used by ``record_reference.py`` (against a live reference server) and by the replay test
(against our app), so that both sides are normalised the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

_UUID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?")
_DURATION = re.compile(r"^\d+:\d{2}:\d{2}(\.\d+)?$")


def normalise(value: Any) -> Any:
    """Replace what changes from run to run: uuids, dates, durations, temp paths."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        if _DURATION.match(value):
            return "<duration>"
        value = _DATE.sub("<date>", _UUID.sub("<uuid>", value))
        return "<path>" if value.startswith("/tmp/") else value
    return value


def reduce(status: int, content_type: str, raw: bytes) -> dict[str, Any]:
    media = content_type.split(";")[0].strip()
    if media != "application/json":
        return {"status": status, "type": media, "body": "<%d bytes>" % len(raw)}
    try:
        body = normalise(json.loads(raw))
    except ValueError:
        body = "<invalid json>"
    return {"status": status, "type": media, "body": body}


def covers(ref: Any, ours: Any) -> bool:
    """Ours answers everything the reference did (extra keys in ours are allowed)."""
    if isinstance(ref, dict):
        return isinstance(ours, dict) and all(k in ours and covers(v, ours[k])
                                              for k, v in ref.items())
    if isinstance(ref, list):
        return (isinstance(ours, list) and len(ref) == len(ours)
                and all(covers(a, b) for a, b in zip(ref, ours, strict=True)))
    return bool(ref == ours)


def intended_difference(case: dict[str, Any]) -> bool:
    """Cases named "... DIFFER intended ..." are where the contract marks a reference bug."""
    return "DIFFER intended" in case.get("name", "")

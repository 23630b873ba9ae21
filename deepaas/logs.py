"""Structured logs (``--log-format json``): one JSON object per line."""

from __future__ import annotations

import json
import logging

__all__ = ["JsonFormatter"]


class JsonFormatter(logging.Formatter):
    """time, level, logger, message (and the traceback when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry)

"""Converters from the text of a flag, an environment variable or a config file to a setting.

Each takes what the user wrote (a string, or a TOML value) and answers the typed value, or
raises ``ValueError`` with a short account of what is accepted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["Choice", "SIZE_UNITS", "api_key_list", "auth_entries", "base_path", "between",
           "job_store", "names", "parse_bool", "parse_size"]

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


def parse_bool(value: Any) -> bool:
    """Read a boolean the way config files and shells spell it."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a boolean: %r" % value)


def names(value: Any) -> tuple[str, ...]:
    """Names from a list, or from one string separated by commas or spaces."""
    items = [value] if isinstance(value, str) else list(value)
    return tuple(n for item in items for n in str(item).replace(",", " ").split())


def api_key_list(value: Any) -> tuple[str, ...]:
    """API keys, as :func:`names` reads them; an empty one is an error, not "no key".

    ``--api-key ""`` or ``DEEPAAS_API_KEYS=" , "`` say that keys are wanted: reading them as
    no key at all would leave the server open without a word.
    """
    items = [value] if isinstance(value, str) else list(value)
    keys = []
    for item in items:
        for piece in str(item).split(","):
            if not piece.strip():
                raise ValueError("an API key may not be empty (to run without keys, leave "
                                 "the option out)")
            keys += piece.split()
    return tuple(keys)


def base_path(value: Any) -> str:
    """``"/x"`` from ``x``, ``/x/`` or ``x/``; empty for the root."""
    text = str(value or "").strip().strip("/")
    return "/" + text if text else ""


def between(kind: Callable[[Any], Any], low: float, high: float | None = None
            ) -> Callable[[Any], Any]:
    """A converter to ``kind`` that refuses values outside ``[low, high]``."""

    def convert(value: Any) -> Any:
        number = kind(value)
        if number < low or (high is not None and number > high):
            raise ValueError("must be at least %s" % low if high is None
                             else "must be between %s and %s" % (low, high))
        return number

    return convert


class Choice:
    """A converter to one of ``allowed``, in any case, answered as ``allowed`` spells it."""

    def __init__(self, *allowed: str) -> None:
        self.allowed = allowed
        self._spelled = {choice.lower(): choice for choice in allowed}

    def __call__(self, value: Any) -> str:
        choice = self._spelled.get(str(value).lower())
        if choice is None:
            raise ValueError("one of " + ", ".join(self.allowed))
        return choice


SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
              "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20,
              "gib": 2**30, "tib": 2**40}


_SIZE_CHARS = 40  # a longer size is garbage (5,000 digits read as infinity, then overflowed)
_SIZE_LIMIT = 2**63  # bytes: what a signed 64-bit field (SQLite, cgroups) holds


def parse_size(value: Any) -> int:
    """Bytes from ``4096``, ``"512MiB"``, ``"4 GB"`` (decimal and binary units); ValueError
    for anything else, an infinite or overlong number and a size past 8 EiB included."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number, unit = float(value), ""
    else:
        text = str(value).strip().lower().replace(" ", "")
        if len(text) > _SIZE_CHARS:
            raise ValueError("a size of at most %d characters" % _SIZE_CHARS)
        digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
        number, unit = float(digits or "nan"), text[len(digits):]
    if unit not in SIZE_UNITS or not 0 <= number < math.inf:
        raise ValueError("a size such as 4096, 512MiB or 4GB")
    size = number * SIZE_UNITS[unit]
    if size >= _SIZE_LIMIT:
        raise ValueError("a size below 8EiB")
    return int(size)


def auth_entries(value: Any) -> tuple[str, ...]:
    """``HOST=USER:PASSWORD`` entries, split on whitespace only (a password may hold commas)."""
    items = [value] if isinstance(value, str) else list(value)
    entries = tuple(e for item in items for e in str(item).split())
    for entry in entries:
        host, _, credentials = entry.partition("=")
        if not host or ":" not in credentials:
            # never echo the entry: it holds a password
            raise ValueError("each entry must read HOST=USER:PASSWORD")
    return entries


def job_store(value: Any) -> str:
    """Empty (SQLite in the data dir) or a PostgreSQL URL."""
    text = str(value).strip()
    if text and not text.startswith(("postgresql://", "postgres://")):
        raise ValueError("empty (SQLite in the data dir) or a postgresql:// URL")
    return text

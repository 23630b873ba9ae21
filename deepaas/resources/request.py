"""What a training asks for: ``DEEPaaS-Resources: cpus=2, gpus=1, memory=8GiB, site=NAME``.

Any subset may be given; what is not given comes from the module's declared ``resources``
(its metadata), then from the server's flags; what none of them says is not constrained.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from deepaas.converters import parse_size
from deepaas.exceptions import InvalidInput

__all__ = ["HEADER", "Resources", "checked_text", "parse_header", "from_declared"]

HEADER = "DEEPaaS-Resources"
_KEYS = ("cpus", "gpus", "memory", "site")


@dataclasses.dataclass(frozen=True)
class Resources:
    """CPUs and GPUs (whole numbers), memory (bytes) and a site; None: not asked for."""

    cpus: int | None = None
    gpus: int | None = None
    memory: int | None = None
    site: str | None = None

    def over(self, below: Resources) -> Resources:
        """These, with what they leave unsaid taken from ``below``."""
        return Resources(*(mine if mine is not None else theirs for mine, theirs in zip(
            dataclasses.astuple(self), dataclasses.astuple(below), strict=True)))

    def shown(self) -> dict[str, Any]:
        """What was asked for, as a record shows it (only what was)."""
        return {key: value for key, value in dataclasses.asdict(self).items()
                if value is not None}

    @property
    def constrained(self) -> bool:
        return any(value is not None for value in dataclasses.astuple(self))


_MOST = 2**63 - 1  # what a signed 64-bit field holds; int() refuses past 4,300 digits


def _whole(key: str, raw: Any, least: int) -> int:
    text = str(raw).strip()
    if len(text) > len(str(_MOST)):
        raise _invalid(key, "must be at most %d" % _MOST)
    whole = isinstance(raw, int) or text.isdigit() or (isinstance(raw, float)
                                                       and raw.is_integer())
    if isinstance(raw, bool) or not whole:
        raise _invalid(key, "must be a whole number, not %r" % text)
    value = int(text) if isinstance(raw, str) else int(raw)
    if value < least:
        raise _invalid(key, "must be at least %d" % least)
    if value > _MOST:
        raise _invalid(key, "must be at most %d" % _MOST)
    return value


def _invalid(key: str, message: str) -> InvalidInput:
    return InvalidInput({HEADER: ["%s: %s." % (key, message)]})


def _value(key: str, raw: Any) -> Any:
    if key == "cpus":
        return _whole(key, raw, 1)
    if key == "gpus":
        return _whole(key, raw, 0)
    if key == "memory":
        try:
            size = parse_size(raw)
        except (TypeError, ValueError) as exc:
            raise _invalid(key, "must be a size such as 512MiB or 8GiB (%s)" % exc) from None
        if size <= 0:
            raise _invalid(key, "must be more than 0")
        return size
    site = str(raw).strip()
    if not site:
        raise _invalid(key, "must name a site")
    return site


def _build(pairs: Mapping[str, Any], unknown: str) -> Resources:
    values: dict[str, Any] = {}
    for key, raw in pairs.items():
        if key not in _KEYS:
            raise _invalid(key, "%s; the keys are %s" % (unknown, ", ".join(_KEYS)))
        values[key] = _value(key, raw)
    return Resources(**values)


def parse_header(text: str) -> Resources:
    """The header's ``key=value`` pairs (comma-separated); a 422 naming the key when one is
    malformed or unknown."""
    pairs: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, equals, value = part.partition("=")
        key = key.strip().lower()
        if not equals or not value.strip():
            raise _invalid(key or part.strip(), "expected key=value")
        if key in pairs:
            raise _invalid(key, "given twice")
        pairs[key] = value.strip()
    return _build(pairs, "unknown")


def from_declared(declared: Mapping[str, Any] | None) -> Resources:
    """What a module's metadata declares (``"resources": {"cpus": 2, "memory": "4GiB"}``);
    what it gets wrong is ignored with the rest of it left as declared."""
    found: dict[str, Any] = {}
    for key, raw in (declared or {}).items():
        if key in _KEYS:
            try:
                found[key] = _value(key, raw)
            except InvalidInput:
                continue
    return Resources(**found)


def checked_text(value: Any) -> str:
    """A ``--train-resources`` value: header text that reads (ValueError when it does not)."""
    text = str(value).strip()
    try:
        parse_header(text)
    except InvalidInput as exc:
        raise ValueError("; ".join(exc.messages[HEADER])) from None
    return text

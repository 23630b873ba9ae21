"""Turning what a module returned into an answer body: JSON or raw bytes.

JSON bodies are strict JSON (RFC 8259), which every client's parser accepts (``JSON.parse`` in
a browser included). What a module's ``predict()`` or ``train()`` returns is written with these
rules, the same for every answer, every training result and every stored record:

* ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None`` as they are.
* ``tuple`` -> list. ``set`` and ``frozenset`` -> list, **sorted** when its elements can be
  compared with one another (numbers, or texts, ...), so that the same set answers the same list
  on every run and server; otherwise in the set's own iteration order, which may differ.
* numpy arrays, torch tensors and anything else with ``tolist()`` -> lists; numpy scalars ->
  Python numbers (``tolist()``, else ``item()``).
* ``datetime``, ``date``, ``time`` -> ISO 8601 text (``isoformat()``).
* ``os.PathLike`` (``pathlib.Path``) -> the path as text.
* ``bytes``, ``bytearray``, ``memoryview`` -> text, when they hold UTF-8 text. Bytes that are not
  UTF-8 have no JSON form (below): a JSON string cannot say that it holds binary data, so the
  module chooses the encoding (``base64.b64encode(data).decode()``) and documents it, or answers
  the bytes raw with an ``accept`` media type.
* Dict keys become text: ``str`` as they are, ``int``/``float``/``bool``/``None`` as JSON
  writes them (``"1"``, ``"1.5"``, ``"true"``, ``"null"``), a date, path, bytes or numpy
  scalar key by the rules above; a key of any other type (a tuple) has no JSON form.
* ``NaN``, ``Infinity`` and ``-Infinity`` (Python floats, numpy floats of any width, values
  inside arrays) -> ``null``: JSON has no such numbers. :func:`encode` says in which fields
  that happened, so that the server can warn the module's author (:class:`NullWarnings`).
* Anything else (``object()``, a socket, a function, an instance of a class without
  ``tolist``/``item``) has no JSON form: :class:`~deepaas.exceptions.NoJsonForm` (500) names
  its type and the field where it was found, never its text (a repr may hold addresses or
  secrets).

The common case costs one ``json`` call: the rules above beyond the ``default`` hook (NaN, and
locating a value with no JSON form) run only when that call fails.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import logging
import math
import os
from collections.abc import Iterable
from typing import Any

from deepaas.exceptions import NoJsonForm

__all__ = ["Answer", "JSON_TYPES", "NullWarnings", "dumps", "encode", "jsonable", "jsonable_text",
           "raw_bytes"]

LOG = logging.getLogger(__name__)

JSON_TYPES = ("application/json", "*/*")
_MAX_NULLED = 32  # fields with NaN one answer reports; the rest show up in later answers
_MAX_KEY = 40  # characters of a dict key shown in a path


@dataclasses.dataclass(frozen=True)
class Answer:
    """A finished answer body with its media type; built off the event loop.

    ``nulled`` holds ``(field, path)`` for each field where NaN or Infinity was sent as null,
    so that the server process (not the worker that built the body) can warn once.
    A ``predict`` that returns a generator gives a streamed answer: see ``stream``.
    """

    body: bytes
    content_type: str
    is_json: bool
    nulled: tuple[tuple[str, str], ...] = ()
    #: A streamed answer (``body`` is then empty): where it is produced, the generator the
    #: module returned; in the server, a :class:`deepaas.model.streams.ItemStream`; between
    #: a worker and the server, the worker's number for it (``deepaas.model.streams``).
    stream: Any = dataclasses.field(default=None, compare=False)
    #: A streamed answer's call's secret argument values: an error the stream raises later
    #: shows them as ``***`` (``ModelWrapper.stream_errors``).
    secrets: tuple[str, ...] = dataclasses.field(default=(), compare=False)


class _NoForm(TypeError):
    """Raised by the ``default`` hook: the json module then stops and :class:`_Walk` finds
    where the value is. A TypeError, as the json module expects from its hook."""

    def __init__(self, value: Any, reason: str = "") -> None:
        super().__init__()
        self.type_name = _type_name(value)
        self.reason = reason


def _type_name(value: Any) -> str:
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return "%s.%s" % (kind.__module__, kind.__qualname__)


def _sorted_if_possible(items: set[Any] | frozenset[Any]) -> list[Any]:
    try:
        return sorted(items)
    except (TypeError, ValueError):  # mixed or unorderable elements: iteration order
        return list(items)


def _text(raw: bytes | bytearray | memoryview) -> str:
    # Text bytes (labels read in binary mode, numpy "S" arrays, a tool's output) answer as
    # that text. Other bytes are an error rather than base64 that depends on the content:
    # a client could not tell which of the two a given string is.
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise _NoForm(raw, "not UTF-8 text: encode binary data yourself, as base64 for "
                      "example, or answer it raw with an accept media type") from None


def _convert(value: Any) -> Any:
    """One step towards JSON for a value the json module cannot write (see the docstring)."""
    if isinstance(value, (set, frozenset)):
        return _sorted_if_possible(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _text(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    for method in ("tolist", "item"):  # numpy arrays and scalars, torch tensors
        convert = getattr(value, method, None)
        if callable(convert):
            converted = convert()
            if converted is not value:
                return converted
    raise _NoForm(value)


# Built once: json.dumps with options builds an encoder on every call.
_ENCODER = json.JSONEncoder(default=_convert, allow_nan=False)


class _Path:
    """Where a value sits in the body, rendered only when something is reported there."""

    __slots__ = ("parent", "step")

    def __init__(self, parent: _Path | None, step: str | int) -> None:
        self.parent = parent
        self.step = step

    def render(self, generic: bool = False) -> str:
        """``predictions.probs[3]``; ``generic``: the field, ``predictions.probs[*]``."""
        steps: list[str | int] = []
        node: _Path | None = self
        while node is not None and node.parent is not None:  # the root has no step
            steps.append(node.step)
            node = node.parent
        text = ""
        for step in reversed(steps):
            if isinstance(step, int):
                text += "[*]" if generic else "[%d]" % step
            elif step.isidentifier():
                text += "." + step if text else step
            else:
                shown = step if len(step) <= _MAX_KEY else step[:_MAX_KEY] + "..."
                text += "[%s]" % json.dumps(shown)
        return text or "the top level"


_ROOT = _Path(None, "")


class _Walk:
    """The slow path: a copy of a value made only of JSON types, with None for each NaN or
    Infinity and the fields where that happened; or NoJsonForm, naming where a value with no
    JSON form sits. Its conversions are those of the ``default`` hook, so an answer reads the
    same whichever path wrote it."""

    def __init__(self, what: str, as_text: bool = False) -> None:
        self.what = what
        self.as_text = as_text  # a value with no JSON form becomes its text, not an error
        self.texted: list[str] = []  # where that happened
        self.nulled: dict[str, str] = {}  # field ([*] for indices) -> the first path seen
        self._open: set[int] = set()  # containers being walked, to tell a cycle

    def value(self, value: Any, path: _Path) -> Any:
        if isinstance(value, float):
            number = float(value)  # a float subclass (numpy float64) as json writes it
            return number if math.isfinite(number) else self._null(path)
        if value is None or isinstance(value, (str, bool)):
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, (dict, list, tuple)):
            return self._container(value, path)
        try:
            converted = _convert(value)
        except _NoForm as exc:
            if self.as_text:
                return self._text(value, path)
            raise self._error(exc, path) from None
        return self.value(converted, path)

    def _text(self, value: Any, path: _Path) -> str:
        self.texted.append(path.render())
        return str(value)

    def _null(self, path: _Path) -> None:
        if len(self.nulled) < _MAX_NULLED:
            self.nulled.setdefault(path.render(generic=True), path.render())
        return None

    def _container(self, value: dict[Any, Any] | list[Any] | tuple[Any, ...],
                   path: _Path) -> Any:
        marker = id(value)
        if marker in self._open:
            if self.as_text:
                return self._text("<%s containing itself>" % _type_name(value), path)
            raise NoJsonForm("%s a value with no JSON form: %s at %s (it contains itself)"
                             % (self.what, _type_name(value), path.render()))
        self._open.add(marker)
        try:
            return self._dict(value, path) if isinstance(value, dict) else self._list(value, path)
        finally:
            self._open.discard(marker)

    def _list(self, items: list[Any] | tuple[Any, ...], path: _Path) -> list[Any]:
        out: list[Any] = []
        first_null = -1
        for index, item in enumerate(items):
            kind = type(item)
            if kind is float:  # the bulk of a converted array: no path built per element
                if math.isfinite(item):
                    out.append(item)
                    continue
                out.append(None)
                first_null = index if first_null < 0 else first_null
            elif kind is str or kind is int or item is None:
                out.append(item)
            else:
                out.append(self.value(item, _Path(path, index)))
        if first_null >= 0:  # every element is one field: report it once, at the first
            self._null(_Path(path, first_null))
        return out

    def _dict(self, items: dict[Any, Any], path: _Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in items.items():
            name = self._key(key, path)
            out[name] = self.value(item, _Path(path, name))
        return out

    def _key(self, key: Any, path: _Path) -> str:
        if isinstance(key, str):
            return key
        if key is None or isinstance(key, (int, float)):  # bool is an int
            return json.dumps(key)  # as json writes keys: "null", "true", "1", "1.5", "NaN"
        try:
            converted = _convert(key)
        except _NoForm as exc:
            if self.as_text:
                return self._text(key, path)
            exc.type_name += " (a dict key)"
            raise self._error(exc, path) from None
        if converted is None or isinstance(converted, (str, int, float)):
            return self._key(converted, path)
        raise NoJsonForm("%s a value with no JSON form: %s (a dict key) at %s"
                         % (self.what, _type_name(key), path.render()))

    def _error(self, exc: _NoForm, path: _Path) -> NoJsonForm:
        return NoJsonForm("%s a value with no JSON form: %s at %s%s" % (
            self.what, exc.type_name, path.render(), " (%s)" % exc.reason if exc.reason else ""))


def encode(value: Any, what: str = "the answer holds") -> tuple[str, dict[str, str]]:
    """Strict JSON text of ``value`` by the rules of this module, and the fields where NaN or
    Infinity was written as null (``{"predictions.probs[*]": "predictions.probs[3]"}``: the
    field, array indices as ``[*]``, and the first place it happened).

    A value with no JSON form raises :class:`~deepaas.exceptions.NoJsonForm`, whose message
    starts with ``what`` (``"Model 'x' predict returned"``) and names the value's type and
    where it sits (``predictions["conn"]``), never the value's text.
    """
    try:
        return _ENCODER.encode(value), {}
    except (TypeError, ValueError):
        pass  # NaN or Infinity, no JSON form, a key json cannot write, or a cycle: find where
    walk = _Walk(what)
    clean = walk.value(value, _ROOT)
    return _ENCODER.encode(clean), walk.nulled


def dumps(value: Any) -> str:
    """Strict JSON with the standard ``", "``/``": "`` separators (hub checks grep for
    ``name": ``); NaN and Infinity become null without a word (see :func:`encode`)."""
    return encode(value)[0]


def jsonable(value: Any) -> Any:
    """A copy of ``value`` made only of JSON types."""
    return json.loads(dumps(value))


def jsonable_text(value: Any) -> tuple[Any, list[str]]:
    """A copy of ``value`` made only of JSON types, where a value with no JSON form is shown
    as its text; and the fields where that happened.

    For what people wrote and read back, whose text is theirs: a model's metadata, the parsed
    arguments a training record shows (a custom field's object). Never for what a module
    answers, whose text may hold what must not leave the server.
    """
    try:
        return jsonable(value), []
    except NoJsonForm:
        walk = _Walk("", as_text=True)
        return walk.value(value, _ROOT), walk.texted


class NullWarnings:
    """The fields of one model's answers where NaN or Infinity was sent as null: the server
    log warns once per field, not on every answer.

    At most ``limit`` fields are remembered; past that, one last warning says that further
    fields are not reported, so that memory and log stay bounded whatever a module returns.
    Used from the event loop only.
    """

    def __init__(self, model: str, limit: int = 256) -> None:
        self.model = model
        self.limit = limit
        self._seen: set[str] = set()
        self._full = False

    def report(self, nulled: Iterable[tuple[str, str]], method: str = "predict") -> None:
        for field, path in nulled:
            if self._full or field in self._seen:
                continue
            if len(self._seen) >= self.limit:
                self._full = True
                LOG.warning("model %r: %s returned NaN or Infinity in more than %d fields; "
                            "further ones are sent as null without a warning",
                            self.model, method, self.limit)
                return
            self._seen.add(field)
            LOG.warning("model %r: %s returned NaN or Infinity at %s, sent as null (JSON has "
                        "no such numbers); not reported again for %s",
                        self.model, method, path, field)


def raw_bytes(value: Any) -> bytes:
    """The bytes of a raw answer: bytes, str, an open binary file, BytesIO or ReturnedFile;
    ``None`` (a module that made nothing to send) is an empty body, as in DEEPaaS 2.x."""
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, io.BytesIO):
        return value.getvalue()
    filename = getattr(value, "filename", None)
    if isinstance(filename, str) and not hasattr(value, "read"):  # ReturnedFile
        with open(filename, "rb") as handle:
            return handle.read()
    reader = getattr(value, "read", None)
    if callable(reader):
        try:
            data = reader()
        finally:
            close = getattr(value, "close", None)
            if callable(close):
                close()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return dumps(value).encode("utf-8")

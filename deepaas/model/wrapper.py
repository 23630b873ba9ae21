"""ModelWrapper: one loaded module behind one small, typed interface.

Modules import :class:`UploadedFile` and :class:`ReturnedFile` from here (and from the 2.x path
``deepaas.model.v2.wrapper``).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import inspect
import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import marshmallow

from deepaas.exceptions import (
    DeepaasError,
    ModelError,
    ModelLoadError,
    ModuleHTTPError,
    NoJsonForm,
    NotProvided,
    ResponseValidationError,
    summary_of,
)
from deepaas.model import args as margs
from deepaas.model.outputs import (
    JSON_TYPES,
    Answer,
    NullWarnings,
    encode,
    jsonable_text,
    raw_bytes,
)
from deepaas.model.streams import is_stream

__all__ = ["ModelWrapper", "UploadedFile", "ReturnedFile"]

LOG = logging.getLogger(__name__)

UploadedFile = collections.namedtuple(
    "UploadedFile", ("name", "filename", "content_type", "original_filename"),
    defaults=(None, None, None, None),
)
UploadedFile.__doc__ = """A file a client sent: ``filename`` is a readable path on disk holding
its bytes (removed after the request), ``name`` the form field, ``original_filename`` the client's
file name."""

ReturnedFile = collections.namedtuple(
    "ReturnedFile", ("name", "filename", "content_type", "original_filename"),
    defaults=(None, None, None, None),
)
ReturnedFile.__doc__ = """A file a module returns from predict: its bytes are read from
``filename`` and answered with the requested media type."""


def _http_status(exc: BaseException) -> int | None:
    """The status of an aiohttp ``HTTPException`` raised by a module (duck-typed: no aiohttp)."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 300 <= status < 600 and hasattr(exc, "reason"):
        return status
    return None


def _response_schema(obj: Any, name: str) -> type[marshmallow.Schema] | None:
    schema = getattr(obj, "schema", None)
    if schema is None:
        return None
    if isinstance(schema, dict):
        return marshmallow.Schema.from_dict(schema, name="%sResponse" % name)
    if isinstance(schema, marshmallow.Schema):
        return type(schema)
    if isinstance(schema, type) and issubclass(schema, marshmallow.Schema):
        return schema
    raise TypeError("model %r: schema must be a marshmallow Schema or a dict of fields" % name)


_EXPECTED_ARGS = ('a dict of marshmallow fields (name -> fields.X(...)), e.g. '
                  '{"n": fields.Int(required=True)}')


def _schema_fields(schema: marshmallow.Schema) -> Mapping[str, Any] | None:
    """The fields of a Schema a module returned instead of a dict, when taking only them
    loses nothing: a schema with load or validation hooks would have them silently skipped."""
    tags = {tag[0] if isinstance(tag, tuple) else tag
            for tag, found in getattr(schema, "_hooks", {}).items() if found}
    return None if any("load" in t or "validates" in t for t in tags) else schema.fields


def _arg_fields(model: str, method: str, raw: Any) -> Mapping[str, Any]:
    """What ``get_*_args()`` returned, as a mapping of fields.

    None means no arguments; a dict (``Schema().fields`` is one) is used as it is; a
    marshmallow Schema class or instance gives its fields unless it has hooks. Anything else
    is a :class:`ModelLoadError` that says what was expected.
    """
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return raw
    schema = raw
    if isinstance(raw, type) and issubclass(raw, marshmallow.Schema):
        schema = margs.quiet_legacy(raw)
    if isinstance(schema, marshmallow.Schema):
        found = _schema_fields(schema)
        if found is not None:
            return found
        what = ("a marshmallow Schema with load or validation hooks (they would not run on "
                "arguments)")
    else:
        what = "a value of type %s" % type(raw).__name__
    raise ModelLoadError("model %r: %s() returned %s; expected %s"
                         % (model, method, what, _EXPECTED_ARGS))


def _argspec(model: str, method: str, raw: Any) -> margs.ArgSpec:
    try:
        return margs.build_argspec(_arg_fields(model, method, raw),
                                   predict=method == "get_predict_args")
    except TypeError as exc:  # a value that is not a field, or a bad location
        raise ModelLoadError("model %r: %s(): %s; expected %s"
                             % (model, method, exc, _EXPECTED_ARGS)) from None


class ModelWrapper:
    """A loaded module: its name, the object, and everything derived from it at start-up.

    ``source`` is the import reference (``pkg.module:attr``) that a training process uses to
    load the same module again.
    """

    def __init__(self, name: str, obj: Any, source: str | None = None) -> None:
        self.name = name
        self.obj = obj
        self.source = source
        self.predict_args = _argspec(name, "get_predict_args",
                                     self._optional_args("get_predict_args"))
        self.train_args = _argspec(name, "get_train_args", self._optional_args("get_train_args"))
        self.response_schema = _response_schema(obj, name)
        #: Fields of this model's answers already reported for NaN or Infinity sent as null.
        self.null_warnings = NullWarnings(name)
        self._metadata_texted = False  # warned that metadata values were shown as text

    def __repr__(self) -> str:
        return "<ModelWrapper %s from %s>" % (self.name, self.source or self.obj)

    def _optional_args(self, method: str) -> Any:
        func = getattr(self.obj, method, None)
        if not callable(func):
            return {}
        try:
            return margs.quiet_legacy(func)
        except NotImplementedError:
            return {}

    def provides(self, method: str) -> bool:
        return callable(getattr(self.obj, method, None))

    @property
    def predict_is_async(self) -> bool:
        return inspect.iscoroutinefunction(getattr(self.obj, "predict", None))

    @property
    def streams(self) -> bool:
        """``predict`` is a generator function (or an async one): its answers stream. A
        ``predict`` that returns a generator streams too, though nothing tells it before."""
        func = getattr(self.obj, "predict", None)
        return inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)

    def _method(self, method: str) -> Callable[..., Any]:
        func = getattr(self.obj, method, None)
        if not callable(func):
            raise NotProvided("Not implemented by underlying model (loaded '%s')" % self.name)
        return func

    def wrap_error(self, method: str, exc: BaseException,
                   secrets: Sequence[str] = ()) -> DeepaasError:
        """Map what a module raised to the error a client sees; log the traceback.

        ``secrets`` (:meth:`secrets_in` the call's arguments) show as ``***`` wherever the
        module's text quotes them: the message, the traceback and the log line.
        """
        if isinstance(exc, DeepaasError):
            return exc
        if isinstance(exc, NotImplementedError):
            return NotProvided("Model '%s' does not implement %s" % (self.name, method))
        status = _http_status(exc)
        if status is not None:
            reason = str(getattr(exc, "reason", "")) or str(exc)
            return ModuleHTTPError(status, margs.scrub(reason, secrets))
        text = "".join(traceback.format_exception(exc))
        if secrets:  # the traceback as text: formatted from exc_info it would quote them
            LOG.error("model %r raised in %s\n%s", self.name, method,
                      margs.scrub(text, secrets).rstrip())
        else:
            LOG.error("model %r raised in %s", self.name, method, exc_info=exc)
        error = ModelError(margs.scrub("Error in model '%s' %s: %s" % (
            self.name, method, summary_of(exc)), secrets))
        error.traceback = margs.scrub(text, secrets)
        return error

    def stream_errors(self, answer: Answer) -> Callable[[str, BaseException], DeepaasError]:
        """:meth:`wrap_error` for what a streamed ``answer`` raises after it began."""
        return functools.partial(self.wrap_error, secrets=answer.secrets)

    def _streamed(self, answer: Answer, kwargs: Mapping[str, Any]) -> Answer:
        """A streamed answer keeps its call's secrets, for the errors it may raise later."""
        if answer.stream is None or not self.predict_args.secret_names:
            return answer
        return dataclasses.replace(answer, secrets=tuple(self.secrets_in("predict", kwargs)))

    def secrets_in(self, method: str, kwargs: Mapping[str, Any]) -> list[str]:
        """The secret texts among the arguments of a ``predict`` or ``train`` call."""
        spec = self.train_args if method == "train" else self.predict_args
        return spec.secrets_in(kwargs)

    def call(self, method: str, **kwargs: Any) -> Any:
        """Call a module method; every exception comes out as a :class:`DeepaasError`."""
        func = self._method(method)
        try:
            return func(**kwargs)
        except Exception as exc:
            raise self.wrap_error(method, exc, self.secrets_in(method, kwargs)) from exc

    def metadata(self) -> dict[str, Any]:
        """``get_metadata()``, or the DEEPaaS 2.x fallback when the module does not provide it."""
        try:
            meta = self.call("get_metadata")
        except NotProvided:
            return {
                "id": "0",
                "name": self.name,
                "description": "Could not load description from underlying model (loaded '%s')"
                % self.name,
            }
        meta = dict(meta) if isinstance(meta, dict) else {"metadata": meta}
        # A listing must never fail over one model's description: metadata is text the
        # author wrote (a version object, a Decimal), so such values are shown as text.
        shown, texted = jsonable_text(meta)
        if texted and not self._metadata_texted:  # once: the listing asks on every request
            self._metadata_texted = True
            LOG.warning("model %r: get_metadata() returned values with no JSON form at %s; "
                        "shown as text", self.name, ", ".join(texted))
        return dict(shown)

    def warm(self) -> None:
        """Run ``warm()`` if the module has one."""
        if self.provides("warm"):
            try:
                self.call("warm")
            except NotProvided:
                LOG.debug("model %r does not implement warm()", self.name)

    def answer(self, ret: Any, accept: str | None, envelope: bool = True) -> Answer:
        """Build the answer for a predict return value (envelope, schema or raw body).

        Without ``envelope`` a module with no ``schema`` is answered what it returned, not
        ``{"status": "OK", "predictions": ...}`` (deepaas-cli writes that, as DEEPaaS 2.x did).

        JSON follows ``deepaas.model.outputs``: NaN and Infinity become null and are listed in
        ``Answer.nulled`` (the server warns once per field, :meth:`report_nulled`); a value with
        no JSON form raises :class:`NoJsonForm` (500), naming its type and field.
        """
        if is_stream(ret):  # its items are sent as they come (deepaas.model.streams)
            media = accept if accept and accept not in JSON_TYPES else "application/json"
            return Answer(b"", media, is_json=media == "application/json", stream=ret)
        if accept and accept not in JSON_TYPES:
            return Answer(raw_bytes(ret), accept, is_json=False)
        if self.response_schema is not None:
            try:
                margs.quiet_legacy(lambda: self.response_schema().load(ret))  # type: ignore[misc]
            except marshmallow.ValidationError as exc:
                # by field name: marshmallow lists unknown fields in a set's changing order
                messages = (dict(sorted(exc.messages.items()))
                            if isinstance(exc.messages, dict) else exc.messages)
                LOG.error("model %r: response does not match its schema: %s", self.name,
                          messages)
                raise ResponseValidationError(
                    "Model '%s' returned a response that does not match its schema: %s"
                    % (self.name, messages)) from None
            body = ret
        else:
            body = {"status": "OK", "predictions": ret} if envelope else ret
        try:
            text, nulled = encode(body, "Model '%s' predict returned" % self.name)
        except NoJsonForm as exc:
            LOG.error("model %r: %s", self.name, exc.message)
            raise
        return Answer(text.encode("utf-8"), "application/json", is_json=True,
                      nulled=tuple(nulled.items()))

    def report_nulled(self, answer: Answer) -> None:
        """Warn, once per field of this model, where an answer sent NaN or Infinity as null
        (called in the server process, wherever the answer was built)."""
        if answer.nulled:
            self.null_warnings.report(answer.nulled)

    @property
    def batches(self) -> bool:
        """The module answers several predictions in one call (``predict_batch``)."""
        return callable(getattr(self.obj, "predict_batch", None))

    def batch_limits(self) -> tuple[int | None, float | None]:
        """The module's own ``max_batch_size`` and ``max_batch_delay_ms``, if it set them."""
        size = getattr(self.obj, "max_batch_size", None)
        delay = getattr(self.obj, "max_batch_delay_ms", None)
        return (int(size) if size else None, float(delay) if delay is not None else None)

    def predict_many(self, calls: list[tuple[dict[str, Any], str | None]]
                     ) -> list[Answer | DeepaasError]:
        """``predict_batch([kwargs, ...])`` once for several requests; one answer (or error)
        per request, each built with that request's own ``accept``."""
        func = self._method("predict_batch")
        try:
            results = list(func([kwargs for kwargs, _ in calls]))
        except Exception as exc:
            secrets = [s for kwargs, _ in calls for s in self.secrets_in("predict", kwargs)]
            raise self.wrap_error("predict_batch", exc, secrets) from exc
        if len(results) != len(calls):
            raise ModelError("Model '%s' predict_batch returned %d results for %d requests"
                             % (self.name, len(results), len(calls)))
        answers: list[Answer | DeepaasError] = []
        for result, (kwargs, accept) in zip(results, calls, strict=True):
            if isinstance(result, BaseException):
                answers.append(self.wrap_error("predict_batch", result,
                                               self.secrets_in("predict", kwargs)))
                continue
            try:
                answers.append(self._streamed(self.answer(result, accept), kwargs))
            except DeepaasError as error:
                answers.append(error)
        return answers

    def predict_each(self, calls: list[tuple[dict[str, Any], str | None]]
                     ) -> list[Answer | DeepaasError]:
        """``predict`` for each call in turn: one hand-over to a worker for several waiting
        requests, each with its own answer or error."""
        answers: list[Answer | DeepaasError] = []
        for kwargs, accept in calls:
            try:
                answers.append(self.predict(kwargs, accept))
            except DeepaasError as error:
                answers.append(error)
        return answers

    def predict(self, kwargs: dict[str, Any], accept: str | None,
                envelope: bool = True) -> Answer:
        """Run a synchronous ``predict`` and build its answer (call from a worker thread)."""
        return self._streamed(self.answer(self.call("predict", **kwargs), accept, envelope),
                              kwargs)

    async def apredict(self, kwargs: dict[str, Any], accept: str | None,
                       envelope: bool = True) -> Answer:
        """Await a coroutine ``predict`` and build its answer."""
        func = self._method("predict")
        try:
            ret = await func(**kwargs)
        except Exception as exc:
            raise self.wrap_error("predict", exc, self.secrets_in("predict", kwargs)) from exc
        return self._streamed(self.answer(ret, accept, envelope), kwargs)

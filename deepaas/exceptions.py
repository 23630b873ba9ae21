"""The one error hierarchy of deepaas.

Every error the domain raises is a :class:`DeepaasError`. It knows the HTTP status a client
should see and the exit code the command line uses; the HTTP edge maps it to a response in
exactly one place (``deepaas.api.errors``).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DeepaasError",
    "ConfigError",
    "ModelLoadError",
    "NoModelsFound",
    "ModelNotFound",
    "JobNotFound",
    "PredictionNotFound",
    "ResourcesUnavailable",
    "OutputNotFound",
    "NotProvided",
    "InvalidInput",
    "BadRequest",
    "PayloadTooLarge",
    "ModelError",
    "ModuleHTTPError",
    "ResponseValidationError",
    "NoJsonForm",
    "EndpointDisabled",
    "Overloaded",
    "ServerStopping",
    "PredictTimeout",
    "WorkerCrashed",
    "RemoteDataError",
    "RemoteRefused",
    "RemoteNotFound",
    "RemoteTooLarge",
    "RemoteUnavailable",
    "RemoteTimeout",
    "CannotListen",
    "DataDirInUse",
    "WebhookRefused",
    "message_of",
    "summary_of",
    "to_message",
    "from_message",
]


class DeepaasError(Exception):
    """Base of every deepaas error: ``status`` for HTTP, ``exit_code`` for the CLI."""

    status = 500
    exit_code = 1
    #: The module's traceback, shown in answers only when the server runs with ``--debug``.
    traceback: str | None = None
    #: Extra HTTP headers of the answer (``Retry-After``).
    headers: dict[str, str] = {}

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> Any:
        """What a JSON client receives."""
        return {"message": self.message}


class ConfigError(DeepaasError):
    """The configuration (flags, environment, file) is invalid."""

    exit_code = 2


class ModelLoadError(DeepaasError):
    """A module that was asked for could not be loaded."""

    exit_code = 1


class NoModelsFound(ModelLoadError):
    """No module is installed under the ``deepaas.v2.model`` group."""


class ModelNotFound(DeepaasError):
    status = 404


class JobNotFound(DeepaasError):
    status = 404


class PredictionNotFound(DeepaasError):
    """No such asynchronous prediction for this model, or (its result) not done."""

    status = 404


class OutputNotFound(DeepaasError):
    """No such file among a training's outputs (on this server)."""

    status = 404


class NotProvided(DeepaasError):
    """The module does not provide this method (missing or raising NotImplementedError)."""

    status = 501


class InvalidInput(DeepaasError):
    """Arguments failed validation: the body maps each client name to its messages."""

    status = 422
    exit_code = 2

    def __init__(self, messages: dict[str, Any]) -> None:
        super().__init__("invalid arguments: %s" % messages)
        self.messages = messages

    def body(self) -> Any:
        return self.messages


class BadRequest(DeepaasError):
    """The request itself is malformed; ``messages`` keeps the DEEPaaS 2.x shape."""

    status = 400
    exit_code = 2

    def __init__(self, messages: dict[str, Any]) -> None:
        super().__init__("bad request: %s" % messages)
        self.messages = messages

    def body(self) -> Any:
        return self.messages


class PayloadTooLarge(DeepaasError):
    status = 413


class ModelError(DeepaasError):
    """The module raised while running one of its methods."""

    status = 500


class ModuleHTTPError(DeepaasError):
    """The module raised an aiohttp HTTP exception: its status and reason are kept."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class ResponseValidationError(DeepaasError):
    """The module's return value does not match its declared response schema."""

    status = 500


class NoJsonForm(DeepaasError):
    """A module returned a value that JSON cannot hold (``object()``, a socket): the message
    names its type and where it sits in the answer, never its text."""

    status = 500


class EndpointDisabled(DeepaasError):
    """The endpoint was switched off (``--predict-endpoint false``); 402 as in DEEPaaS 2.x."""

    status = 402


class Overloaded(DeepaasError):
    """Too many predictions are waiting for this model: come back shortly."""

    status = 503

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class ServerStopping(DeepaasError):
    """The server was asked to stop and ``--shutdown-timeout`` ran out before this request
    finished: try again (elsewhere, or once it is back)."""

    status = 503

    def __init__(self, message: str = "the server is stopping", retry_after: int = 5) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class PredictTimeout(DeepaasError):
    """The prediction took longer than ``--predict-timeout``."""

    status = 504


class WorkerCrashed(ModelError):
    """The worker process died while it served the request; it has been replaced."""


class RemoteDataError(DeepaasError):
    """A file argument given as a URL could not be used. Subclasses say why."""

    status = 422
    exit_code = 2


class RemoteRefused(RemoteDataError):
    """The server does not fetch this URL: remote data is off, or its scheme, host or
    address is not allowed (``--remote-data``, ``--remote-private``)."""

    status = 403


class RemoteNotFound(RemoteDataError):
    """The storage answered that the file does not exist (or is not a file)."""

    status = 422


class RemoteTooLarge(RemoteDataError):
    """The remote file is larger than ``--remote-max-size``."""

    status = 413


class RemoteUnavailable(RemoteDataError):
    """The storage could not be reached or answered with an error."""

    status = 502


class RemoteTimeout(RemoteDataError):
    """Fetching took longer than ``--remote-timeout``."""

    status = 504


class CannotListen(DeepaasError):
    """The server cannot listen on its address: in use, not this host's, or not allowed."""


class DataDirInUse(DeepaasError):
    """Another server holds the data folder (``--data-dir``): one folder, one server. Said
    at start, before any model loads; exit 1, as for an address in use."""


class ResourcesUnavailable(DeepaasError):
    """A training asked for resources no node has (more CPUs, GPUs or memory, an unknown
    site): answered when it is submitted, naming what exists, instead of waiting for ever."""

    status = 422
    exit_code = 2


class WebhookRefused(DeepaasError):
    """The server does not deliver to this ``Webhook-URL``: webhooks are off, or its scheme,
    host or address is not allowed (``--webhook-allow``, ``--webhook-private``). Answered
    when the job is submitted, before anything is queued."""

    status = 422
    exit_code = 2


def message_of(exc: BaseException) -> str:
    """``str(exc)`` as DEEPaaS 2.x reported it, or the exception's class name when that is
    empty (a bare ``assert False``), so that a failure never reads as an empty message."""
    text = str(exc)
    return text if text.strip() else type(exc).__name__


def summary_of(exc: BaseException) -> str:
    """``"ValueError: bad input"``, or only ``"AssertionError"`` when the message is empty."""
    text = str(exc)
    return "%s: %s" % (type(exc).__name__, text) if text.strip() else type(exc).__name__


def to_message(error: DeepaasError) -> dict[str, Any]:
    """A plain dict that crosses a process boundary (an exception's own pickling may not)."""
    return {"type": type(error).__name__, "status": error.status, "message": error.message,
            "messages": getattr(error, "messages", None), "traceback": error.traceback}


def from_message(data: dict[str, Any]) -> DeepaasError:
    """Rebuild an error sent by :func:`to_message`."""
    kind = {cls.__name__: cls for cls in _message_classes()}.get(data.get("type", ""), ModelError)
    error: DeepaasError
    if kind is ModuleHTTPError:
        error = ModuleHTTPError(int(data["status"]), data["message"])
    elif kind in (InvalidInput, BadRequest):
        error = kind(data.get("messages") or {})
    else:
        error = kind(data.get("message", ""))
    error.traceback = data.get("traceback")
    return error


def _message_classes() -> list[type[DeepaasError]]:
    found, todo = [], [DeepaasError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found

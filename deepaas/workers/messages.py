"""What the server and the places model code runs (threads, worker processes, Ray actors) say
to each other: small frozen dataclasses that pickle, checked by mypy on both sides.

One shape for every prediction: a list of :class:`Call` in, one outcome per call out, in the
same order. A single prediction is a list of one; a gathered batch is the same list, given to
``predict_batch`` once when the module has one (``ModelWrapper.batches``), else to ``predict``
call by call. An outcome is an :class:`~deepaas.model.outputs.Answer` (the answer message
itself: body, media type, JSON or not) or, across a process boundary, an :class:`Error`.
A worker starts by saying :class:`Ready` or :class:`Failed`.

A streamed answer comes back as an Answer whose ``stream`` is the worker's number for the
generator; the worker stays the server's until each of those streams is over. The server
asks for items with :class:`Pull` (answered by a list of what was made since: at least one
:class:`~deepaas.model.streams.Chunk`, or, last, None at the end or an :class:`Error`) and
stops a stream early with :class:`Close`.
"""

from __future__ import annotations

import dataclasses
import traceback
from typing import Any

from deepaas.exceptions import DeepaasError, ModelError, from_message, to_message
from deepaas.model.outputs import Answer

__all__ = ["Answer", "Call", "Close", "Error", "Failed", "Outcome", "Pull", "Ready", "Result",
           "outcomes"]


@dataclasses.dataclass(frozen=True)
class Call:
    """One prediction: the module's keyword arguments and the media type the client accepts."""

    kwargs: dict[str, Any]
    accept: str | None

    def __reduce__(self) -> tuple[type[Call], tuple[dict[str, Any], str | None]]:
        # the fields in a tuple, not a dict of them: a quarter smaller and faster to pickle
        return Call, (self.kwargs, self.accept)


@dataclasses.dataclass(frozen=True)
class Error:
    """A failed call (or a failed start) as plain data: an exception of ours may carry an
    aiohttp class that cannot be unpickled on the other side."""

    type: str
    status: int
    message: str
    messages: Any = None
    traceback: str | None = None

    @classmethod
    def of(cls, error: DeepaasError) -> Error:
        return cls(**to_message(error))

    def exception(self) -> DeepaasError:
        """The error again, as the class it was raised as."""
        return from_message(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class Ready:
    """A worker loaded and warmed its module and takes calls."""


@dataclasses.dataclass(frozen=True)
class Failed:
    """A worker could not load or warm its module: ``error`` says why."""

    error: Error

    @classmethod
    def of(cls, exc: BaseException) -> Failed:
        """``exc`` as the server reports it, with the traceback of where it was raised."""
        failed = exc if isinstance(exc, DeepaasError) else ModelError(
            "%s: %s" % (type(exc).__name__, exc))
        failed.traceback = "".join(traceback.format_exception(exc))
        return cls(Error.of(failed))


@dataclasses.dataclass(frozen=True)
class Pull:
    """The next item of the worker's stream number ``stream``."""

    stream: int


@dataclasses.dataclass(frozen=True)
class Close:
    """Stop the worker's stream number ``stream`` (its generator's ``finally`` runs)."""

    stream: int


Outcome = Answer | Error  # what one call gives, across a process boundary
Result = Answer | DeepaasError  # what one call gives, in the server


def outcomes(replies: list[Outcome]) -> list[Result]:
    """Replies from another process as the server uses them: errors as exceptions again."""
    return [one.exception() if isinstance(one, Error) else one for one in replies]

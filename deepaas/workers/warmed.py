"""Loading a module again where it will run (a worker process, a Ray actor, a training's
process) and warming it as the server did."""

from __future__ import annotations

from deepaas.model.loading import resolve
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.messages import Failed

__all__ = ["load_or_failed", "load_warmed"]


def load_warmed(name: str, source: str, warm: bool) -> ModelWrapper:
    """The module ``source`` (an import reference) as model ``name``, its ``warm()`` called
    if ``warm``; what loading or warming raised comes out as it is."""
    model = ModelWrapper(name, resolve(source), source)
    if warm:
        model.warm()
    return model


def load_or_failed(name: str, source: str, warm: bool) -> ModelWrapper | Failed:
    """:func:`load_warmed`, or the :class:`Failed` message that says why it could not be."""
    try:
        return load_warmed(name, source, warm)
    except Exception as exc:
        return Failed.of(exc)

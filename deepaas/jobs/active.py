"""What the job manager holds about one training, and how a record shows its arguments."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from deepaas.jobs.executor import Execution
from deepaas.jobs.records import Job
from deepaas.jobs.sharing import LogShipper
from deepaas.model.args import ArgSpec
from deepaas.model.outputs import jsonable_text
from deepaas.model.wrapper import ModelWrapper, UploadedFile
from deepaas.resources.placement import Placement
from deepaas.resources.request import Resources

__all__ = ["Active", "Limits", "declared_resources", "display_args"]


def declared_resources(model: ModelWrapper) -> dict[str, Any]:
    """The ``resources`` a module's metadata declares (cpus, gpus, memory), if any."""
    try:
        declared = model.metadata().get("resources")
    except Exception:  # metadata that fails here fails loudly on its own route
        return {}
    return declared if isinstance(declared, dict) else {}


def display_args(spec: ArgSpec, kwargs: dict[str, Any],
                 urls: dict[str, str] | None = None) -> dict[str, Any]:
    """Arguments as a record shows them: a secret (:func:`deepaas.model.args.is_secret`) as
    ``"***"``, files as ``[name, content_type, original_filename]``, followed by the URL for
    a file fetched from one; a value a module's own field made (a time range object) as its
    text. Only this is stored, listed, answered and delivered: the module gets ``kwargs``."""
    shown: dict[str, Any] = {}
    for key, value in spec.masked(kwargs).items():
        if isinstance(value, UploadedFile):
            value = [value.name, value.content_type, value.original_filename]
            if urls and key in urls:
                value.append(urls[key])
        shown[key] = value
    return dict(jsonable_text(shown)[0])


@dataclasses.dataclass(frozen=True)
class Limits:
    """How many trainings may run at once, on the server and per model, and how many may wait
    (0: no bound)."""

    total: int = 0
    per_model: int = 1
    waiting: int = 0


class Active:
    """A queued or running training: the live record and what only the manager holds."""

    def __init__(self, job: Job, model: ModelWrapper, kwargs: dict[str, Any],
                 log: LogShipper, asked: Resources | None = None,
                 declared: dict[str, Any] | None = None) -> None:
        self.job = job
        self.model = model
        self.kwargs = kwargs
        self.log = log
        self.asked = asked or Resources()  # what it asked for, all defaults applied
        self.declared = declared or {}  # the resources its module's metadata declares
        self.placement: Placement | None = None  # what it holds, once started
        self.proc: Execution | None = None
        self.task: asyncio.Task[None] | None = None
        self.cancelled = False  # by a client: ends as "cancelled"
        self.stopped = False  # by the server's shutdown: ends as "error"
        self.flushed = 0  # metrics points already in the store
        self.flushing = asyncio.Lock()  # one flush at a time: points are written once
        self.done = asyncio.Event()

"""The contract a DEEPaaS module implements.

A complete module is one file and one entry-point line::

    # my_model/api.py
    from webargs import fields, validate

    def get_metadata():
        return {"name": "my-model", "description": "Says hello", "version": "1.0"}

    def warm():
        ...  # load weights into module globals, once, before the first request

    def get_predict_args():
        return {
            "name": fields.Str(required=True, metadata={"description": "who to greet"}),
            "accept": fields.Str(load_default="application/json",
                                 validate=validate.OneOf(["application/json", "text/plain"])),
        }

    def predict(**kwargs):
        return {"greeting": "hello " + kwargs["name"]}

and in ``pyproject.toml``::

    [project.entry-points."deepaas.v2.model"]
    my_model = "my_model.api"

The entry point may also name a class (``"my_model.api:Model"``, instantiated with no
arguments) or an instance. Only ``predict`` is required; a missing method, or one raising
``NotImplementedError``, is "not provided" (HTTP 501 for predict and train).

File arguments are declared with ``fields.Field(metadata={"type": "file"})`` and arrive as
:class:`deepaas.model.wrapper.UploadedFile`; the temporary file is removed after the request.

Several predictions in one call: define ``predict_batch(list_of_kwargs)`` returning a list of
the same length (an item that is an exception fails only its own request). The server then
gathers concurrent requests, up to ``max_batch_size`` or until ``max_batch_delay_ms`` after the
first, and calls it once; set those two as module (or class) attributes to override the
server's ``--max-batch-size`` / ``--max-batch-delay-ms``. Each request keeps its own argument
validation, ``accept`` and schema check::

    max_batch_size = 64
    max_batch_delay_ms = 5

    def predict_batch(batch):
        inputs = np.stack([to_vector(kwargs) for kwargs in batch])
        return [{"score": float(s)} for s in model(inputs)]

``predict`` may also be a coroutine (``async def predict``): it is then awaited on the
server's event loop, concurrently, and must not block.

A ``predict`` that is a generator (or returns one, or an async generator) streams: each item
is sent to the client as soon as it is yielded (NDJSON lines, or server-sent events), and a
client that leaves closes the generator::

    def predict(**kwargs):
        for token in generate(kwargs["prompt"]):
            yield {"token": token}

``train`` runs in a process of its own (after ``warm()``), with everything it prints kept as
the job's log. It can report how far it has come, for clients to watch and plot::

    from deepaas import progress

    def train(**kwargs):
        for epoch in range(1, kwargs["epochs"] + 1):
            loss = fit_one_epoch()
            progress.report(step=epoch, total=kwargs["epochs"], loss=loss)
        save(deepaas.data_dir("models", "my-model"))  # the server's --data-dir
        return {"loss": loss}
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["BaseModel"]


class BaseModel(abc.ABC):
    """Base class for class-style modules. Override what your model provides."""

    schema: Any = None
    """Optional marshmallow Schema class (or dict of fields) that predict's return must match."""

    def get_metadata(self) -> dict[str, Any]:
        """Return a dict shown at ``GET /v2/models/NAME/`` (name, description, version...)."""
        raise NotImplementedError()

    def warm(self) -> None:
        """Prepare the model (load weights) once, before the server accepts requests."""
        raise NotImplementedError()

    def get_predict_args(self) -> dict[str, Any]:
        """Return ``{"name": webargs/marshmallow field}`` describing predict's arguments."""
        raise NotImplementedError()

    @abc.abstractmethod
    def predict(self, **kwargs: Any) -> Any:
        """Return the prediction for the validated arguments."""

    def get_train_args(self) -> dict[str, Any]:
        """Return ``{"name": field}`` describing train's arguments."""
        raise NotImplementedError()

    def train(self, **kwargs: Any) -> Any:
        """Train the model; runs in its own process. Return a JSON-able result (metrics)."""
        raise NotImplementedError()

    # Optional: ``def predict_batch(self, batch: list[dict]) -> list`` (see the module doc).

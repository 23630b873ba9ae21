"""The demo module: every part of the DEEPaaS v2 module contract, in the usual module style.

Copy this file to start a module of your own. The server finds it through the entry point in
``pyproject.toml``::

    [project.entry-points."deepaas.v2.model"]
    demo = "deepaas_demo.api"

and then calls these module functions (all optional except ``predict``):

``get_metadata()``
    what ``GET /v2/models/demo/`` shows.
``warm()``
    called once per process before the first request: load weights here.
``get_predict_args()`` / ``predict(**kwargs)``
    the arguments of ``POST /v2/models/demo/predict/`` and the function that answers it.
``schema``
    a marshmallow Schema class describing predict's JSON answer (the server checks it).
``get_train_args()`` / ``train(**kwargs)``
    the arguments of ``POST /v2/models/demo/train/`` and the training itself, which runs in a
    process of its own (``python -m deepaas.jobs.child``) that calls ``warm()`` first.

Arguments are marshmallow fields, imported through webargs as DEEPaaS modules always have.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from typing import Any

import marshmallow
from webargs import fields, validate

from deepaas import progress
from deepaas_demo import __version__, png

__all__ = [
    "get_metadata",
    "warm",
    "get_predict_args",
    "predict",
    "schema",
    "get_train_args",
    "train",
]

LANGUAGES = ["en", "es", "fr", "de"]
MEDIA_TYPES = ["application/json", "image/png"]

# What warm() loads. A real module keeps its weights in a module global like this one: the
# server calls warm() in the very process that later calls predict(), so they are shared.
_MODEL: dict[str, Any] | None = None


# --- metadata ----------------------------------------------------------------------------------

def get_metadata() -> dict[str, Any]:
    """Describe the module. Every key is shown at ``GET /v2/models/demo/`` (and in the list)."""
    return {
        "name": "demo",
        "description": "Example DEEPaaS module: greets, scores a list of numbers, draws a PNG "
                       "bar chart and runs a quick fake training.",
        "version": __version__,
        "author": "The deepaas authors",
        "license": "Apache-2.0",
        "url": "https://example.org/deepaas-demo",
    }


# --- warm-up -----------------------------------------------------------------------------------

def _load_model(warmed_by: str) -> dict[str, Any]:
    """Build the "model": a greeting table and the weights of a one-feature linear model.

    This stands for the slow part of a real module (reading weights from disk, moving them to
    the GPU): it should happen once per process, not once per request.
    """
    return {
        "greetings": {"en": "Hello", "es": "Hola", "fr": "Bonjour", "de": "Hallo"},
        "weights": {"slope": 2.0, "bias": 0.5},
        "warmed_by": warmed_by,
        "pid": os.getpid(),
    }


def warm() -> None:
    """Load the model into the module global ``_MODEL``.

    ``deepaas-run`` calls this before it accepts requests (unless started with ``--nowarm``),
    and a training process calls it before ``train()``.
    """
    global _MODEL
    _MODEL = _load_model("warm")


def _model() -> dict[str, Any]:
    """The loaded model; loaded on first use when ``warm()`` was skipped (``--nowarm``).

    Predictions say which happened (``model.warmed_by``), so a cold process shows itself.
    """
    global _MODEL
    if _MODEL is None:
        _MODEL = _load_model("first use")
    return _MODEL


# --- prediction --------------------------------------------------------------------------------

def get_predict_args() -> dict[str, Any]:
    """The arguments of predict, as ``{name: field}``.

    Each field becomes a parameter in the API specification and a form field in the Swagger
    UI: ``load_default`` is the default, ``validate.OneOf`` the choices, ``validate.Range`` the
    bounds, ``metadata["description"]`` the help text. ``name`` uses the marshmallow 3
    keywords ``missing=`` and ``description=`` that older modules use; both spellings work.
    """
    return {
        "name": fields.Str(missing="world", description="Who to greet."),
        "language": fields.Str(load_default="en", validate=validate.OneOf(LANGUAGES),
                               metadata={"description": "Language of the greeting."}),
        "n": fields.Int(load_default=1, validate=validate.Range(min=1, max=5),
                        metadata={"description": "How many times to repeat the greeting."}),
        "shout": fields.Bool(load_default=False,
                             metadata={"description": "Write the greeting in capitals."}),
        "values": fields.List(
            fields.Int(validate=validate.Range(min=0, max=1000)),
            load_default=[3, 1, 4, 1, 5], validate=validate.Length(min=1, max=32),
            metadata={"description": "Numbers to score and chart (repeat the key for more)."}),
        "scale": fields.Float(load_default=1.0, validate=validate.Range(min=0.0, max=100.0),
                              metadata={"description": "Multiplies every value before scoring."}),
        "data": fields.Field(required=False, metadata={
            "type": "file", "location": "form",
            "description": "Any file: its name, size and SHA-256 are reported."}),
        "accept": fields.Str(load_default="application/json", validate=validate.OneOf(MEDIA_TYPES),
                             metadata={"description": "Answer as JSON or as a PNG bar chart."}),
    }


class FileInfoSchema(marshmallow.Schema):
    """What predict reports about an uploaded file."""

    original_filename = fields.Str(allow_none=True, required=True)
    content_type = fields.Str(allow_none=True, required=True)
    size = fields.Int(required=True, validate=validate.Range(min=0))
    sha256 = fields.Str(required=True, validate=validate.Length(equal=64))


class ModelInfoSchema(marshmallow.Schema):
    """Where the model in memory came from: ``warm()`` or a lazy first use."""

    warmed_by = fields.Str(required=True, validate=validate.OneOf(["warm", "first use"]))
    pid = fields.Int(required=True)


class PredictionSchema(marshmallow.Schema):
    """The JSON answer of predict."""

    greeting = fields.Str(required=True)
    language = fields.Str(required=True, validate=validate.OneOf(LANGUAGES))
    values = fields.List(fields.Int(), required=True)
    scores = fields.List(fields.Float(), required=True)
    total = fields.Float(required=True)
    file = fields.Nested(FileInfoSchema, allow_none=True, required=True)
    model = fields.Nested(ModelInfoSchema, required=True)


# The server validates predict's JSON answer with ``schema().load(answer)`` and publishes the
# schema as ``ModelPredictionResponse`` in the API specification. Without ``schema`` it wraps
# the answer as ``{"status": "OK", "predictions": ...}`` instead.
schema = PredictionSchema


def _greeting(model: dict[str, Any], name: str, language: str, n: int, shout: bool) -> str:
    text = " ".join(["%s, %s!" % (model["greetings"][language], name)] * n)
    return text.upper() if shout else text


def _scores(model: dict[str, Any], values: list[int], scale: float) -> list[float]:
    weights = model["weights"]
    return [weights["slope"] * v * scale + weights["bias"] for v in values]


def _file_info(upload: Any) -> dict[str, Any] | None:
    """Describe an ``UploadedFile``: ``upload.filename`` is a temporary path holding its bytes.

    Read the file during ``predict``: the server removes it as soon as the request ends.
    """
    if upload is None:
        return None
    digest, size = hashlib.sha256(), 0
    with open(upload.filename, "rb") as handle:
        for block in iter(lambda: handle.read(64 * 1024), b""):
            digest.update(block)
            size += len(block)
    return {"original_filename": upload.original_filename, "content_type": upload.content_type,
            "size": size, "sha256": digest.hexdigest()}


def predict(**kwargs: Any) -> Any:
    """Answer one prediction; ``kwargs`` are the validated arguments of ``get_predict_args()``.

    With ``accept=image/png`` the answer is the PNG bytes themselves (the server sends them
    with that media type); otherwise a dict matching ``schema``.
    """
    model = _model()
    scores = _scores(model, kwargs["values"], kwargs["scale"])
    if kwargs.get("accept") == "image/png":
        return png.bar_chart(scores)
    return {
        "greeting": _greeting(model, kwargs["name"], kwargs["language"], kwargs["n"],
                              kwargs["shout"]),
        "language": kwargs["language"],
        "values": list(kwargs["values"]),
        "scores": scores,
        "total": math.fsum(scores),
        "file": _file_info(kwargs.get("data")),
        "model": {"warmed_by": model["warmed_by"], "pid": model["pid"]},
    }


# --- training ----------------------------------------------------------------------------------

def get_train_args() -> dict[str, Any]:
    """The arguments of train; shown in the specification like predict's."""
    return {
        "epochs": fields.Int(load_default=3, validate=validate.Range(min=1, max=100),
                             metadata={"description": "Number of epochs."}),
        "learning_rate": fields.Float(
            load_default=0.1, validate=validate.Range(min=0.0, max=1.0, min_inclusive=False),
            metadata={"description": "Step size of the (pretend) optimiser."}),
        "optimizer": fields.Str(load_default="sgd", validate=validate.OneOf(["sgd", "adam"]),
                                metadata={"description": "Which (pretend) optimiser to use."}),
        "epoch_seconds": fields.Float(
            load_default=0.1, validate=validate.Range(min=0.0, max=60.0),
            metadata={"description": "How long each epoch sleeps, to stand for real work."}),
    }


def _loss(epoch: int, learning_rate: float, optimizer: str) -> float:
    """A made-up loss curve: decays with the epochs, faster for adam and larger steps."""
    speed = learning_rate * (3.0 if optimizer == "adam" else 2.0)
    return round(math.exp(-speed * epoch) * 0.8 + 0.05, 4)


def train(**kwargs: Any) -> dict[str, Any]:
    """Run a quick pretend training and return its metrics.

    This runs in its own process (``python -m deepaas.jobs.child``): it sees only what
    ``warm()`` set up there, never the server's memory. Everything printed is captured as the
    job's log (``GET /v2/models/demo/train/UUID/logs``). ``progress.report()`` sends the step
    and metrics to the server, which shows the latest as the job's ``progress`` and keeps the
    series as its ``metrics`` (outside a deepaas training it does nothing). The returned dict
    (JSON types only) is the training's ``result.output``. What it writes to
    ``progress.output_dir()`` (here, the loss curve as CSV) is listed in the record's ``files``
    and downloadable (``GET .../train/UUID/files/history.csv``), or uploaded to the server's
    output storage. Cancelling the training kills the process.
    """
    model = _model()
    epochs, pause = kwargs["epochs"], kwargs["epoch_seconds"]
    history = []
    for epoch in range(1, epochs + 1):
        time.sleep(pause)
        loss = _loss(epoch, kwargs["learning_rate"], kwargs["optimizer"])
        accuracy = round(1.0 - loss, 4)
        history.append({"epoch": epoch, "loss": loss, "accuracy": accuracy})
        print("epoch %d/%d loss=%.4f accuracy=%.4f" % (epoch, epochs, loss, accuracy), flush=True)
        progress.report(step=epoch, total=epochs, loss=loss, accuracy=accuracy)
    with open(os.path.join(progress.output_dir(), "history.csv"), "w") as handle:
        handle.write("epoch,loss,accuracy\n")
        handle.writelines("%(epoch)d,%(loss)s,%(accuracy)s\n" % row for row in history)
    return {
        "epochs": epochs,
        "final_loss": history[-1]["loss"],
        "accuracy": history[-1]["accuracy"],
        "optimizer": kwargs["optimizer"],
        "learning_rate": kwargs["learning_rate"],
        "history": history,
        "warmed_by": model["warmed_by"],
    }

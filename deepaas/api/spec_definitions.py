"""The fixed definitions of the API description: what each route answers.

Answers may carry more keys than these describe (no ``additionalProperties: false``): a
superset of a DEEPaaS 2.x answer stays compatible.
"""

from __future__ import annotations

from typing import Any

import marshmallow
from marshmallow import fields

from deepaas.jobs.records import JobStatus

__all__ = ["DEFINITIONS", "VALIDATION_ERRORS"]


def _text(description: str, **kwargs: Any) -> fields.Field:
    return fields.String(metadata={"description": description}, **kwargs)


class _Doc(marshmallow.Schema):
    """A documented answer; answers may carry more keys than these (no additionalProperties)."""

    class Meta:
        unknown = marshmallow.EXCLUDE


class _Failure(_Doc):
    message = _text("Failure message", required=True)


class _Location(_Doc):
    rel = fields.String(required=True)
    href = fields.String(required=True)
    type = fields.String()


class _Version(_Doc):
    version = fields.String(required=True)
    id = fields.String(required=True)
    links = fields.List(fields.Nested(_Location))


class _Versions(_Doc):
    versions = fields.List(fields.Nested(_Version))
    links = fields.List(fields.Nested(_Location))


class _ModelMeta(_Doc):
    id = _text("Model identifier", required=True)
    name = _text("Model name", required=True)
    description = _text("Model description", required=True)
    license = _text("Model license")
    author = _text("Model author")
    version = _text("Model version")
    url = _text("Model url")
    links = fields.List(fields.Nested(_Location))


class _Models(_Doc):
    models = fields.List(fields.Nested(_ModelMeta))


class _TrainingResult(_Doc):
    output = fields.Raw(metadata={"description": "What the model's train() returned"})
    finish_date = _text("Training end time")
    duration = _text("How long the training ran")


class _Training(_Doc):
    uuid = _text("Training identifier", required=True)
    date = _text("Training start time", required=True)
    status = _text("Training status", required=True,
                   validate=marshmallow.validate.OneOf(
                       [s.value for s in JobStatus if s.v2 == s.value]))
    message = _text("Optional message explaining status")
    args = fields.Dict(metadata={"description": "The arguments the training was given"})
    result = fields.Nested(_TrainingResult)
    queued = fields.Boolean(metadata={
        "description": "Present while the training waits for a free slot (status is running)"})
    position = fields.Integer(metadata={
        "description": "Place in line among the model's waiting trainings (1: next)"})
    progress = fields.Dict(metadata={
        "description": "Latest progress report: step, total, fraction, time, metric values"})
    metrics = fields.List(fields.Dict(), metadata={
        "description": "Every progress report, oldest first (one training only)"})
    files = fields.List(fields.Dict(), metadata={
        "description": "What the training wrote to its output dir, once it ended: name, size "
                       "and, when uploaded to the output storage, url"})
    resources = fields.Dict(metadata={
        "description": "What it asked for (DEEPaaS-Resources over the module's and the "
                       "server's defaults): cpus, gpus, memory (bytes), site; only when any"})
    placement = fields.Dict(metadata={
        "description": "Where it runs, once started: node, site, and the CPU ids, GPU ids and "
                       "memory limit (bytes) it holds; only when resources were asked for"})


class _AsyncPrediction(_Doc):
    uuid = _text("Asynchronous prediction identifier", required=True)
    model = _text("The model asked", required=True)
    status = _text("running, then done, error or cancelled", required=True,
                   validate=marshmallow.validate.OneOf(
                       [s.value for s in JobStatus if s.v2 == s.value]))
    date = _text("When it was asked", required=True)
    finish_date = _text("When it ended")
    duration = _text("From the request to its end")
    args = fields.Dict(metadata={"description": "The arguments the prediction was given"})
    result = fields.Raw(metadata={
        "description": "Once done with a JSON answer: that answer, as a synchronous "
                       "prediction returns it"})
    result_url = _text("Once done with a binary answer: where to download it")
    content_type = _text("The media type of that binary answer")
    message = _text("Why it failed (status error)")


class _Amount(_Doc):
    total = fields.Integer(required=True)
    free = fields.Integer(required=True, metadata={"description": "Not held by a training"})


class _Cpus(_Amount):
    ids = fields.List(fields.Integer(), metadata={"description": "The CPU ids"})
    free_ids = fields.List(fields.Integer())


class _GpuDevice(_Doc):
    id = fields.Integer(required=True, metadata={"description": "CUDA_VISIBLE_DEVICES index"})
    model = _text("The GPU's model, when known")
    memory = fields.Integer(allow_none=True, metadata={"description": "Bytes, when known"})


class _Gpus(_Amount):
    devices = fields.List(fields.Nested(_GpuDevice))
    free_ids = fields.List(fields.Integer())


class _Node(_Doc):
    name = _text("The node (host) name", required=True)
    site = _text("Its site (a training's site=); empty when unnamed", required=True)
    cpus = fields.Nested(_Cpus, required=True)
    gpus = fields.Nested(_Gpus, required=True)
    memory = fields.Nested(_Amount, required=True, metadata={"description": "Bytes"})
    trainings = fields.Dict(metadata={
        "description": "The trainings holding resources here: uuid to placement"})


class _Totals(_Doc):
    cpus = fields.Nested(_Amount, required=True)
    gpus = fields.Nested(_Amount, required=True)
    memory = fields.Nested(_Amount, required=True, metadata={"description": "Bytes"})


class _Resources(_Doc):
    executor = _text("Where trainings run: local or ray", required=True)
    nodes = fields.List(fields.Nested(_Node), required=True)
    totals = fields.Nested(_Totals, required=True)
    sites = fields.List(fields.String(), required=True, metadata={
        "description": "The named sites a training may ask for"})


class _Prediction(_Doc):
    status = _text("Response status message", required=True)
    predictions = fields.Raw(required=True, metadata={"description": "What predict() returned"})


# Registered in this order so that nested schemas resolve to the names above them.
DEFINITIONS: tuple[tuple[str, type[marshmallow.Schema]], ...] = (
    ("Failure", _Failure),
    ("Location", _Location),
    ("Version", _Version),
    ("Versions", _Versions),
    ("ModelMeta", _ModelMeta),
    ("Models", _Models),
    ("TrainingResult", _TrainingResult),
    ("Training", _Training),
    ("Prediction", _Prediction),
    ("AsyncPrediction", _AsyncPrediction),
    ("ResourceAmount", _Amount),
    ("ResourceCpus", _Cpus),
    ("GpuDevice", _GpuDevice),
    ("ResourceGpus", _Gpus),
    ("ResourceNode", _Node),
    ("ResourceTotals", _Totals),
    ("Resources", _Resources),
)
VALIDATION_ERRORS = {
    "type": "object",
    "description": "Each invalid argument's name mapped to its error messages",
    # a list of messages, or (for list items) messages keyed by the item's index
    "additionalProperties": {},
}

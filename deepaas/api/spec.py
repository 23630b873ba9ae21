"""The API description: Swagger 2.0 at ``/swagger.json`` and OpenAPI 3 at ``/openapi.json``.

Both documents are built once, when the routes are set up, with apispec and its marshmallow
plugin, so a module's argument fields become parameters exactly as apispec converts them
(types, formats, enums, defaults, ranges, descriptions). The shape is that of DEEPaaS 2.x,
because clients read it: generated UIs take the first path ending in ``predict/``, build a form
from its ``parameters`` (skipping ``accept``), offer its ``produces`` media types and read the
outputs from ``definitions.ModelPredictionResponse``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import marshmallow
from aiohttp import web
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

import deepaas
from deepaas.api.keys import REGISTRY, SETTINGS, SPECS
from deepaas.api.security import is_protected
from deepaas.api.spec_args import BINARY, ArgumentDocs, unique_schema_names
from deepaas.api.spec_definitions import DEFINITIONS, VALIDATION_ERRORS
from deepaas.config import Settings, api_keys
from deepaas.model.args import ArgSpec
from deepaas.model.loading import Registry
from deepaas.model.outputs import JSON_TYPES
from deepaas.model.wrapper import ModelWrapper

__all__ = ["swagger", "openapi", "setup_routes", "PREDICTION_RESPONSE"]

LOG = logging.getLogger(__name__)

TITLE = "DEEP as a Service API endpoint"
DESCRIPTION = (
    "A REST API in front of machine-learning models (the DEEPaaS v2 API). Each served model "
    "lists its metadata at `/v2/models/NAME/`, answers predictions at "
    "`/v2/models/NAME/predict/` and runs trainings at `/v2/models/NAME/train/`."
)
OPENAPI_VERSION = "3.0.3"
# The definition clients read a model's outputs from (it describes the first model's answer).
PREDICTION_RESPONSE = "ModelPredictionResponse"

_JSON = "application/json"
_SCHEME = "apiKey"
_API_KEY = {"type": "http", "scheme": "bearer", "description": "An API key of this server"}
# Swagger 2.0 has no bearer scheme: the whole header value, "Bearer KEY", is the key.
_API_KEY_V2 = {"type": "apiKey", "in": "header", "name": "Authorization",
               "description": "Enter: Bearer KEY"}
_LIST_FILTERS = (
    ("status", "string", "Only trainings in these states (comma-separated): queued, running, "
                         "done, error, cancelled"),
    ("limit", "integer", "At most this many trainings"),
    ("offset", "integer", "Skip this many trainings first (oldest first)"),
)
_LOG_FOLLOW = (("follow", "boolean", "Keep the answer open and stream new lines until the "
                                     "training ends"),)


def _component_id(taken: dict[str, Any], model_name: str) -> str:
    base = "%s_%s" % (PREDICTION_RESPONSE, re.sub(r"[^A-Za-z0-9._-]", "_", model_name))
    name, count = base, 1
    while name in taken:
        count += 1
        name = "%s_%d" % (base, count)
    return name


class _Builder:
    """One document (Swagger 2.0 or OpenAPI 3) for one registry under one base path."""

    def __init__(self, settings: Settings, registry: Registry, version: str) -> None:
        self.settings = settings
        self.registry = registry
        self.plugin = MarshmallowPlugin(
            schema_name_resolver=unique_schema_names(lambda: self.spec.components.schemas))
        self.spec = APISpec(title=TITLE, version=deepaas.__version__, openapi_version=version,
                            plugins=[self.plugin], info={"description": DESCRIPTION})
        self.v2 = self.spec.openapi_version.major < 3
        # DEEPaaS 2.x published these formats (apispec 3 added them); form generators use them.
        assert self.plugin.converter is not None
        self.plugin.converter.map_to_openapi_type(fields.Integer, "integer", "int32")
        self.plugin.converter.map_to_openapi_type(fields.Float, "number", "float")
        self.arguments = ArgumentDocs(self.plugin.converter, self.v2,
                                      bool(settings.remote_data))

    def build(self) -> dict[str, Any]:
        for name, schema in DEFINITIONS:
            self.spec.components.schema(name, schema=schema)
        self.spec.components.schema("TrainingList", {"type": "array", "items": "Training"})
        self.spec.components.schema("ValidationErrors", VALIDATION_ERRORS)
        answers = self._prediction_schemas()
        secured = bool(api_keys(self.settings))
        if secured:  # the Swagger UI then offers an "Authorize" button for the key
            self.spec.components.security_scheme(_SCHEME, _API_KEY_V2 if self.v2 else _API_KEY)
        for path, operations in self._paths(answers):
            if secured and is_protected(path, self.settings.protect_all):
                for op in operations.values():
                    op["security"] = [{_SCHEME: []}]
                    op["responses"]["401"] = self._response("A valid API key is needed",
                                                            "Failure", (_JSON,))
            self.spec.path(path=self.settings.base_path + path, operations=operations)
        return self.spec.to_dict()

    # -- definitions of what predict answers -------------------------------------------------

    def _prediction_schemas(self) -> dict[str, str]:
        """Register each model's response schema; answer ``{model name: definition name}``."""
        schemas = self.spec.components.schemas
        names: dict[str, str] = {}
        seen: dict[type[marshmallow.Schema], str] = {}
        for model in self.registry.models.values():
            schema = model.response_schema
            if schema is None:
                continue
            names[model.name] = _component_id(schemas, model.name)
            if schema in seen:  # several models, one schema: apispec wants it registered once
                self.spec.components.schema(names[model.name], schemas[seen[schema]])
            else:
                self._register_response(names[model.name], schema)
                seen[schema] = names[model.name]
        first = next(iter(self.registry.models), None)
        if first in names:
            self.spec.components.schema(PREDICTION_RESPONSE, schemas[names[first]])
            names[first] = PREDICTION_RESPONSE
        return names

    def _register_response(self, name: str, schema: type[marshmallow.Schema]) -> None:
        try:
            self.spec.components.schema(name, schema=schema)
        except Exception:  # a module's odd schema must not keep the server from starting
            LOG.warning("cannot describe response schema %s in the API spec", schema.__name__,
                        exc_info=True)
            self.spec.components.schemas.pop(name, None)
            self.spec.components.schema(name, {"type": "object"})

    # -- paths and operations ----------------------------------------------------------------

    def _paths(self, answers: dict[str, str]) -> Iterator[tuple[str, dict[str, Any]]]:
        failure = ("Bad request", "Failure")
        yield "/", {"get": self._op("versions", "Get available API versions", {
            "200": ("Available API versions", "Versions"), "400": failure})}
        yield "/v2/", {"get": self._op("versions", "Get V2 API version information", {
            "200": ("The v2 API version", "Version"), "400": failure})}
        summary = "Return debug information if enabled by API."
        yield "/v2/debug/", {"get": self._op("debug", summary, {
            "200": ("Debug information if debug endpoint is enabled", None),
            "204": ("Debug endpoint not enabled", None),
        }, produces=("text/plain",), description=summary)}
        yield "/v2/models/", {"get": self._op(
            "models", "Return loaded models and its information",
            {"200": ("The served models and their metadata", "Models")},
            description="DEEPaaS can serve several models on the same endpoint; this lists "
                        "them with their basic metadata.")}
        for model in self.registry.models.values():
            yield from self._model_paths(model, answers.get(model.name, "Prediction"))
        yield from self._operations_paths()

    def _operations_paths(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Probes and metrics, last: clients take the first path ending in predict/."""
        not_ready = ("Not ready: warming up, failed to start, or stopping", "Failure")
        yield "/v2/health/live", {"get": self._op("health", "The server process answers", {
            "200": ("Alive", None)})}
        yield "/v2/health/ready", {"get": self._op("health", "Every model is warm", {
            "200": ("Ready", None), "503": not_ready})}
        for model in self.registry.models.values():
            yield "/v2/models/%s/ready" % model.name, {"get": self._op(
                "health", "Whether this model is warm", {"200": ("Ready", None),
                                                          "503": not_ready})}
        if self.settings.metrics:
            yield "/metrics", {"get": self._op("monitoring", "Prometheus metrics", {
                "200": ("Metrics in the Prometheus text format", None)},
                produces=("text/plain",))}

    def _model_paths(self, model: ModelWrapper,
                     answer: str) -> Iterator[tuple[str, dict[str, Any]]]:
        root = "/v2/models/%s/" % model.name
        yield root, {"get": self._op("models", "Return model's metadata", {
            "200": ("The model's metadata", "ModelMeta")})}
        yield root + "predict/", {"post": self._predict_op(model, answer)}
        training = ("A training", "Training")
        # answered as DEEPaaS 2.x did: aiohttp's plain "404: Not Found", no JSON body
        unknown = ("Unknown training (plain text: 404: Not Found)", None)
        train = self._op("models", "Retrain model with available data", {
            "200": training, "422": ("Invalid arguments", "ValidationErrors"),
            "501": ("The model does not provide train()", "Failure")})
        yield root + "train/", {
            "post": self._with_args(train, model.train_args),
            "get": self._with_query(self._op(
                "models", "Get a list of trainings (running or completed)", {
                    "200": ("The model's trainings", "TrainingList"),
                    "422": ("Invalid filters", "ValidationErrors")}), _LIST_FILTERS)}
        yield root + "train/{uuid}", {
            "get": self._with_uuid(self._op("models", "Get status of a training", {
                "200": training, "404": unknown})),
            "delete": self._with_uuid(self._op("models", "Cancel a running training", {
                "200": ("The cancelled training", "Training"), "404": unknown}))}
        logs = self._op("models", "Get the output (stdout and stderr) of a training", {
            "200": ("The training's log as text", None), "404": unknown},
            produces=("text/plain",))
        yield root + "train/{uuid}/logs", {
            "get": self._with_query(self._with_uuid(logs), _LOG_FOLLOW)}
        output = self._with_uuid(self._op(
            "models", "Download a file the training wrote to its output dir", {
                "200": ("The file", None), "404": ("No such file on this server", "Failure")},
            produces=("application/octet-stream",),
            description="The record's files lists them; with an output storage they were "
                        "uploaded there instead (each entry has its url)."))
        path: dict[str, Any] = {"in": "path", "name": "path", "required": True,
                                "description": "The file's name as the record lists it"}
        path.update({"type": "string"} if self.v2 else {"schema": {"type": "string"}})
        output["parameters"].append(path)
        yield root + "train/{uuid}/files/{path}", {"get": output}

    def _predict_op(self, model: ModelWrapper, answer: str) -> dict[str, Any]:
        args = model.predict_args
        produces = list(args.accept_choices) if args.accept_choices else [_JSON]
        op = self._op("models", "Make a prediction given the input data", {
            "200": ("The prediction", answer),
            "400": ("Bad request", "Failure"),
            "422": ("Invalid arguments", "ValidationErrors"),
            "500": ("The model failed", "Failure"),
            "501": ("The model does not provide predict()", "Failure"),
        }, produces=produces)
        return self._with_args(op, args)

    def _op(self, tag: str, summary: str, responses: dict[str, tuple[str, Any]],
            produces: Any = (_JSON,), description: str = "") -> dict[str, Any]:
        """An operation; ``responses`` maps a status to (description, definition or None)."""
        op: dict[str, Any] = {"tags": [tag], "summary": summary, "parameters": []}
        if description:
            op["description"] = description
        if self.v2:
            op["produces"] = list(produces)
        op["responses"] = {
            code: self._response(text, schema, produces if code.startswith("2") else (_JSON,))
            for code, (text, schema) in responses.items()
        }
        return op

    def _response(self, description: str, schema: Any, media: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {"description": description}
        if schema is None:
            return answer
        if self.v2:
            answer["schema"] = schema
        else:
            answer["content"] = {m: {"schema": schema if m in JSON_TYPES else dict(BINARY)}
                                 for m in media}
        return answer

    def _with_query(self, op: dict[str, Any],
                    params: tuple[tuple[str, str, str], ...]) -> dict[str, Any]:
        """Add plain query parameters: (name, type, description)."""
        for name, kind, description in params:
            param: dict[str, Any] = {"in": "query", "name": name, "required": False,
                                     "description": description}
            schema: dict[str, Any] = {"type": kind}
            if kind == "integer":
                schema["minimum"] = 0
            param.update(schema if self.v2 else {"schema": schema})
            op["parameters"].append(param)
        return op

    def _with_uuid(self, op: dict[str, Any]) -> dict[str, Any]:
        param: dict[str, Any] = {"in": "path", "name": "uuid", "required": True}
        param.update({"type": "string"} if self.v2 else {"schema": {"type": "string"}})
        op["parameters"] = [param]
        return op

    # -- module arguments --------------------------------------------------------------------

    def _with_args(self, op: dict[str, Any], args: ArgSpec) -> dict[str, Any]:
        """Add a method's arguments, each where it is read (see :mod:`spec_args`)."""
        return self.arguments.apply(op, args)


def swagger(settings: Settings, registry: Registry) -> dict[str, Any]:
    """The Swagger 2.0 document of the API serving ``registry`` (DEEPaaS 2.x's shape)."""
    return _Builder(settings, registry, "2.0").build()


def openapi(settings: Settings, registry: Registry) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the same API (file arguments in a multipart body)."""
    return _Builder(settings, registry, OPENAPI_VERSION).build()


def _serve(document: dict[str, Any]) -> Any:
    body = json.dumps(document)  # serialised once; the document never changes

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(text=body)

    return handler


def setup_routes(app: web.Application) -> None:
    """Build both documents once and serve them at ``{base}/swagger.json`` and
    ``{base}/openapi.json``; they are also kept in ``app[SPECS]``.

    Needs ``app[SETTINGS]`` and ``app[REGISTRY]``.
    """
    settings, registry = app[SETTINGS], app[REGISTRY]
    documents = {"swagger": swagger(settings, registry), "openapi": openapi(settings, registry)}
    app[SPECS] = documents
    app.router.add_get(settings.base_path + "/swagger.json", _serve(documents["swagger"]))
    app.router.add_get(settings.base_path + "/openapi.json", _serve(documents["openapi"]))

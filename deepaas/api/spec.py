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
from deepaas.api.keys import REGISTRY, SETTINGS, SPEC_TEXTS, SPECS
from deepaas.api.routes import (
    ANSWER,
    Doc,
    Param,
    Route,
    canonical,
    enabled,
    expand,
    needs_key,
)
from deepaas.api.spec_args import BINARY, ArgumentDocs, unique_schema_names
from deepaas.api.spec_definitions import DEFINITIONS, VALIDATION_ERRORS
from deepaas.api.streaming import EVENTS
from deepaas.config import Settings, api_keys
from deepaas.model.args import ArgSpec
from deepaas.model.loading import Registry
from deepaas.model.outputs import JSON_TYPES
from deepaas.model.streams import BINARY as OCTET_STREAM
from deepaas.model.streams import NDJSON
from deepaas.model.wrapper import ModelWrapper
from deepaas.resources.request import HEADER as RESOURCES

__all__ = ["swagger", "openapi", "setup_specs", "PREDICTION_RESPONSE"]

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
_PREDICTION_FILTERS = (
    ("status", "string", "Only predictions in these states (comma-separated): running, done, "
                         "error, cancelled"),
    ("limit", "integer", "At most this many predictions"),
    ("offset", "integer", "Skip this many predictions first (oldest first)"),
)
_LOG_FOLLOW = (("follow", "boolean", "Keep the answer open and stream new lines until the "
                                     "training ends"),)
_WEBHOOK = ("Where to POST the record when the job ends (a training, or a prediction asked "
            "with Prefer: respond-async), signed as Standard Webhooks are; a URL this server "
            "does not allow is answered 422")

# Always documented (unlike Webhook-URL): every server honours it. DEEPaaS 2.x clients are
# untouched: it comes after the module's arguments, and a form generator that sends it as an
# argument sends an unknown query key, which is ignored.
_RESOURCES = ("The training's computing resources, any subset of: cpus=2, gpus=1, memory=8GiB, "
              "site=NAME (GET /v2/resources/ lists what exists and what is free). What is not "
              "given comes from the module's declared resources, then from the server's "
              "--train-resources. A malformed value is a 422 naming its key, resources that "
              "can never be given a 422 naming what exists; a training whose resources are "
              "held by others waits in line (queued)")


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
        self.spec.components.schema("AsyncPredictionList", {"type": "array",
                                                            "items": "AsyncPrediction"})
        self.spec.components.schema("ValidationErrors", VALIDATION_ERRORS)
        answers = self._prediction_schemas()
        secured = bool(api_keys(self.settings))
        if secured:  # the Swagger UI then offers an "Authorize" button for the key
            self.spec.components.security_scheme(_SCHEME, _API_KEY_V2 if self.v2 else _API_KEY)
        for path, route, operations in self._paths(answers):
            if secured and needs_key(route.access, self.settings.protect_all):
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

    # -- paths and operations, from the route table ------------------------------------------

    def _paths(self, answers: dict[str, str]) -> Iterator[tuple[str, Route, dict[str, Any]]]:
        """(path, its first route, {method: operation}) of every documented route, in the
        table's order (clients take the first path ending in predict/)."""
        documented = [e for e in enabled(self.settings) if e.doc is not None]
        item: tuple[str, Route, dict[str, Any]] | None = None
        for entry, name, path in expand(documented, list(self.registry.models)):
            assert isinstance(entry, Route) and entry.doc is not None
            model = self.registry.models[name] if name else None
            path = canonical(path)
            if item is None or item[0] != path:
                if item is not None:
                    yield item
                item = (path, entry, {})
            item[2][entry.method.lower()] = self._operation(
                entry.doc, model, answers.get(name, "Prediction"))
        if item is not None:
            yield item

    def _operation(self, doc: Doc, model: ModelWrapper | None, answer: str) -> dict[str, Any]:
        produces: Any = doc.produces
        responses = doc.responses
        if produces is None:  # what the model's predict offers
            assert model is not None
            args = model.predict_args
            produces = list(args.accept_choices) if args.accept_choices else [_JSON]
            if model.streams:
                produces, responses = _streamed(produces, responses)
        op = self._op(doc.tag, doc.summary, {
            code: (text, answer if schema == ANSWER else schema)
            for code, text, schema in responses}, produces, doc.description)
        for param in doc.params:
            if param in (Param.UUID, Param.PREDICTION_UUID):
                self._with_uuid(op)
            elif param is Param.FILE_PATH:
                path: dict[str, Any] = {"in": "path", "name": "path", "required": True,
                                        "description": "The file's name as the record lists it"}
                path.update({"type": "string"} if self.v2 else {"schema": {"type": "string"}})
                op["parameters"].append(path)
            elif param is Param.LIST_FILTERS:
                self._with_query(op, _LIST_FILTERS)
            elif param is Param.PREDICTION_FILTERS:
                self._with_query(op, _PREDICTION_FILTERS)
            elif param is Param.LOG_FOLLOW:
                self._with_query(op, _LOG_FOLLOW)
            elif param is Param.WEBHOOK:
                self._with_webhook(op)
            elif param is Param.RESOURCES:
                self._with_header(op, RESOURCES, _RESOURCES)
            else:
                assert model is not None
                self._with_args(op, model.predict_args if param is Param.PREDICT_ARGS
                                else model.train_args)
        return op

    def _op(self, tag: str, summary: str, responses: dict[str, tuple[str, Any]],
            produces: Any = (_JSON,), description: str = "") -> dict[str, Any]:
        """An operation; ``responses`` maps a status to (description, definition or None)."""
        op: dict[str, Any] = {"tags": [tag], "summary": summary, "parameters": []}
        if description:
            op["description"] = description
        if self.v2:
            op["produces"] = list(produces)
        op["responses"] = {
            code: self._response(text, schema, produces if code in ("200", "204") else (_JSON,))
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

    def _with_webhook(self, op: dict[str, Any]) -> None:
        """The optional Webhook-URL header; left out where webhooks are off, so that the
        documents stay DEEPaaS 2.x's."""
        if not self.settings.webhook_allow:
            return
        param: dict[str, Any] = {"in": "header", "name": "Webhook-URL", "required": False,
                                 "description": _WEBHOOK}
        schema = {"type": "string", "format": "uri"}
        param.update(schema if self.v2 else {"schema": schema})
        op["parameters"].append(param)

    def _with_header(self, op: dict[str, Any], name: str, description: str) -> None:
        """An optional text header."""
        param: dict[str, Any] = {"in": "header", "name": name, "required": False,
                                 "description": description}
        param.update({"type": "string"} if self.v2 else {"schema": {"type": "string"}})
        op["parameters"].append(param)

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


def setup_specs(app: web.Application) -> None:
    """Build both documents once, into ``app[SPECS]``, and serialise each once, into
    ``app[SPEC_TEXTS]``, for ``{base}/swagger.json`` and ``{base}/openapi.json``.

    Needs ``app[SETTINGS]`` and ``app[REGISTRY]``.
    """
    settings, registry = app[SETTINGS], app[REGISTRY]
    app[SPECS] = {"swagger": swagger(settings, registry), "openapi": openapi(settings, registry)}
    app[SPEC_TEXTS] = {name: json.dumps(document) for name, document in app[SPECS].items()}


_STREAMED = ("The prediction's items as the model yields them: one JSON value per line "
             "(application/x-ndjson), server-sent events (data: <json>) when the request "
             "accepts text/event-stream, or raw bytes; a failure after the first item ends "
             "the body with an {\"error\": ...} line or an 'event: error'")


def _streamed(produces: list[str], responses: tuple[tuple[str, str, Any], ...]
              ) -> tuple[list[str], tuple[tuple[str, str, Any], ...]]:
    """The media types and answers of a predict that is a generator (or an async one)."""
    raw = [media for media in produces if media not in (_JSON, "*/*")]
    media = [NDJSON, EVENTS, *(raw or [OCTET_STREAM])]
    return media, tuple((code, _STREAMED, {"type": "string"}) if code == "200"
                        else (code, text, schema)
                        for code, text, schema in responses)

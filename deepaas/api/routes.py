"""The route table: every route of the server, declared once.

Each entry says its method, path (under the base path; ``{model}`` is each served model's
name), handler, whether it needs an API key, and how the specification describes it. The router
(:func:`setup_routes`), both specification documents (:mod:`deepaas.api.spec`), the key check
(:mod:`deepaas.api.security`) and the model named in the access log are all derived from
:data:`TABLE`: a route added here is served, documented and protected at once, and one added to
the router by hand fails ``tests/api/test_route_table.py``.

The order is the documents' order: clients take the first path ending in ``predict/``. A run of
consecutive ``{model}`` entries is repeated for each model, in the registry's order.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from deepaas.api import dashboard, docs, monitoring
from deepaas.api.keys import REGISTRY, ROUTES, SETTINGS
from deepaas.api.v2 import debug, health, models, predict, predictions, resources, train, versions
from deepaas.config import Settings
from deepaas.model.wrapper import ModelWrapper

__all__ = ["Access", "Doc", "Param", "Route", "Static", "Served", "TABLE", "MODEL", "expand",
           "setup_routes", "needs_key", "served", "model_in", "canonical", "enabled"]

MODEL = "{model}"
JSON = "application/json"
TEXT = "text/plain"
# The schema of a prediction's answer: the definition of that model's response schema.
ANSWER = "<answer>"

Handler = Callable[..., Awaitable[web.StreamResponse]]


class Access(enum.Enum):
    """Who may call a route when the server has API keys."""

    KEY = "key"  # runs model code: always needs a key
    PUBLIC = "public"  # needs a key only with --protect-all
    OPEN = "open"  # never: the dashboard holds no data, and the key is typed there


class Param(enum.Enum):
    """Parameters the specification documents for an operation, in the order given."""

    PREDICT_ARGS = "the model's predict arguments"
    TRAIN_ARGS = "the model's train arguments"
    UUID = "the training's uuid in the path"
    FILE_PATH = "an output file's name in the path"
    LIST_FILTERS = "the training list's filters in the query"
    LOG_FOLLOW = "the log's ?follow in the query"
    WEBHOOK = "the Webhook-URL header (documented where --webhook-allow turns webhooks on)"
    PREDICTION_UUID = "the asynchronous prediction's uuid in the path"
    PREDICTION_FILTERS = "the asynchronous predictions list's filters in the query"
    RESOURCES = "the DEEPaaS-Resources header: the training's CPUs, GPUs, memory and site"


@dataclasses.dataclass(frozen=True)
class Doc:
    """An operation in the specification; ``responses``: (status, description, definition or
    None or :data:`ANSWER`); ``produces`` None: the media types the model's predict offers."""

    tag: str
    summary: str
    responses: tuple[tuple[str, str, str | None], ...]
    produces: tuple[str, ...] | None = (JSON,)
    description: str = ""
    params: tuple[Param, ...] = ()


@dataclasses.dataclass(frozen=True)
class Route:
    """A handler at a method and path; ``doc`` None keeps it out of the specification."""

    method: str
    path: str
    handler: Handler
    doc: Doc | None = None
    access: Access = Access.PUBLIC
    head: bool = False  # a GET that answers HEAD too
    when: Callable[[Settings], bool] | None = None  # served only where the settings say so
    name: str = ""  # how the dashboard finds the path (util.js: path(name, params))


@dataclasses.dataclass(frozen=True)
class Static:
    """Files of a folder served under a path (pages' assets; never in the specification)."""

    path: str
    folder: str | Path
    access: Access = Access.PUBLIC
    when: Callable[[Settings], bool] | None = None
    doc: None = None
    name: str = ""


Entry = Route | Static


@dataclasses.dataclass(frozen=True)
class Served:
    """What one router entry serves: its declaration, and the model it is for ("" if none)."""

    entry: Entry
    model: str = ""


def _docs_on(settings: Settings) -> bool:
    return settings.doc_endpoint


def _metrics_on(settings: Settings) -> bool:
    return settings.metrics


_FAILURE = ("400", "Bad request", "Failure")
_TRAINING = "A training"
# answered as DEEPaaS 2.x did: aiohttp's plain "404: Not Found", no JSON body
_UNKNOWN = ("404", "Unknown training (plain text: 404: Not Found)", None)
_NOT_READY = ("503", "Not ready: warming up, failed to start, or stopping", "Failure")
_DEBUG = "Return debug information if enabled by API."
_TRAIN = "/v2/models/{model}/train/"
_ASYNC = "/v2/models/{model}/predictions/"  # never ending in predict/: clients take the first
_NO_PREDICTION = ("404", "Unknown asynchronous prediction", "Failure")
_ACCEPTED = ("202", "With the header Prefer: respond-async (RFC 7240): the asynchronous "
             "prediction's record, at once; its Location header says where to poll it",
             "AsyncPrediction")

TABLE: tuple[Entry, ...] = (
    Route("GET", "/", versions.get_versions, Doc("versions", "Get available API versions", (
        ("200", "Available API versions", "Versions"), _FAILURE))),
    Route("GET", "/v2/", versions.get_v2, Doc("versions", "Get V2 API version information", (
        ("200", "The v2 API version", "Version"), _FAILURE))),
    Route("GET", "/v2/debug/", debug.get_debug, Doc("debug", _DEBUG, (
        ("200", "Debug information if debug endpoint is enabled", None),
        ("204", "Debug endpoint not enabled", None)), produces=(TEXT,), description=_DEBUG),
        access=Access.KEY),
    Route("GET", "/v2/models/", models.list_models, Doc(
        "models", "Return loaded models and its information",
        (("200", "The served models and their metadata", "Models"),),
        description="DEEPaaS can serve several models on the same endpoint; this lists them "
                    "with their basic metadata."), name="models"),
    Route("GET", "/v2/models/{model}/", models.get_model, Doc("models", "Return model's metadata", (
        ("200", "The model's metadata", "ModelMeta"),))),
    Route("POST", "/v2/models/{model}/predict/", predict.predict, Doc(
        "models", "Make a prediction given the input data", (
            ("200", "The prediction", ANSWER), _ACCEPTED, _FAILURE,
            ("422", "Invalid arguments", "ValidationErrors"),
            ("500", "The model failed", "Failure"),
            ("501", "The model does not provide predict()", "Failure")),
        produces=None, params=(Param.PREDICT_ARGS, Param.WEBHOOK)), access=Access.KEY,
        name="predict"),
    Route("POST", _TRAIN, train.start, Doc("models", "Retrain model with available data", (
        ("200", _TRAINING, "Training"), ("422", "Invalid arguments", "ValidationErrors"),
        ("501", "The model does not provide train()", "Failure")),
        params=(Param.TRAIN_ARGS, Param.WEBHOOK, Param.RESOURCES)), access=Access.KEY,
        name="trainings"),
    Route("GET", _TRAIN, train.list_jobs, Doc(
        "models", "Get a list of trainings (running or completed)", (
            ("200", "The model's trainings", "TrainingList"),
            ("422", "Invalid filters", "ValidationErrors")),
        params=(Param.LIST_FILTERS,)), access=Access.KEY, name="trainings"),
    Route("GET", _TRAIN + "{uuid}", train.get_job, Doc("models", "Get status of a training", (
        ("200", _TRAINING, "Training"), _UNKNOWN), params=(Param.UUID,)), access=Access.KEY,
        name="training"),
    Route("DELETE", _TRAIN + "{uuid}", train.cancel_job, Doc(
        "models", "Cancel a running training", (
            ("200", "The cancelled training", "Training"), _UNKNOWN),
        params=(Param.UUID,)), access=Access.KEY, name="training"),
    Route("GET", _TRAIN + "{uuid}/logs", train.get_logs, Doc(
        "models", "Get the output (stdout and stderr) of a training", (
            ("200", "The training's log as text", None), _UNKNOWN),
        produces=(TEXT,), params=(Param.UUID, Param.LOG_FOLLOW)), access=Access.KEY,
        name="logs"),
    Route("GET", _TRAIN + "{uuid}/files/{path:.+}", train.get_output, Doc(
        "models", "Download a file the training wrote to its output dir", (
            ("200", "The file", None), ("404", "No such file on this server", "Failure")),
        produces=("application/octet-stream",),
        description="The record's files lists them; with an output storage they were "
                    "uploaded there instead (each entry has its url).",
        params=(Param.UUID, Param.FILE_PATH)), access=Access.KEY, name="file"),
    # Asynchronous predictions (POST predict/ with Prefer: respond-async), after the trainings.
    Route("GET", _ASYNC, predictions.list_predictions, Doc(
        "models", "Get a list of asynchronous predictions (running or ended)", (
            ("200", "The model's asynchronous predictions", "AsyncPredictionList"),
            ("422", "Invalid filters", "ValidationErrors")),
        params=(Param.PREDICTION_FILTERS,)), access=Access.KEY, name="predictions"),
    Route("GET", _ASYNC + "{uuid}", predictions.get_prediction, Doc(
        "models", "Get the record of an asynchronous prediction", (
            ("200", "The record, with the result once done", "AsyncPrediction"),
            _NO_PREDICTION), params=(Param.PREDICTION_UUID,)), access=Access.KEY,
        name="prediction"),
    Route("DELETE", _ASYNC + "{uuid}", predictions.cancel_prediction, Doc(
        "models", "Cancel an asynchronous prediction", (
            ("200", "The record: cancelled, or as it ended before", "AsyncPrediction"),
            _NO_PREDICTION), params=(Param.PREDICTION_UUID,)), access=Access.KEY,
        name="prediction"),
    Route("GET", _ASYNC + "{uuid}/result", predictions.get_result, Doc(
        "models", "Download the answer of a done asynchronous prediction", (
            ("200", "The answer, with its media type (JSON, or a binary one)", None),
            ("404", "Unknown prediction, or not done", "Failure")),
        produces=("application/octet-stream", JSON),
        description="The body the prediction would have answered synchronously; a binary "
                    "answer is only here (the record gives its result_url).",
        params=(Param.PREDICTION_UUID,)), access=Access.KEY, name="prediction_result"),
    # What trainings may ask for, probes and metrics, after the models: clients take the
    # first path ending in predict/.
    Route("GET", "/v2/resources/", resources.get_resources, Doc(
        "resources", "The executor's nodes: CPUs, GPUs and memory, in use and free", (
            ("200", "Each node, the totals and the sites", "Resources"),),
        description="What a training may ask for with the DEEPaaS-Resources header "
                    "(cpus=2, gpus=1, memory=8GiB, site=NAME), and what is free now."),
        name="resources"),
    Route("GET", "/v2/health/live", health.live, Doc("health", "The server process answers", (
        ("200", "Alive", None),)), head=True),
    Route("GET", "/v2/health/ready", health.ready, Doc("health", "Every model is warm", (
        ("200", "Ready", None), _NOT_READY)), head=True),
    Route("GET", "/v2/models/{model}/ready", health.model_ready, Doc(
        "health", "Whether this model is warm", (("200", "Ready", None), _NOT_READY)),
        head=True),
    Route("GET", "/metrics", monitoring.get_metrics, Doc("monitoring", "Prometheus metrics", (
        ("200", "Metrics in the Prometheus text format", None),), produces=(TEXT,)),
        when=_metrics_on),
    # Not API operations: the documents themselves, and the pages with their assets.
    Route("GET", "/swagger.json", docs.get_swagger, head=True),
    Route("GET", "/openapi.json", docs.get_openapi, head=True, name="openapi"),
    Route("GET", "/api", docs.api_page, head=True, when=_docs_on),
    Route("GET", "/ui", docs.ui_redirect, head=True, when=_docs_on),
    Static(docs.STATIC_PREFIX, swagger_ui_path, when=_docs_on),
    Route("GET", "/dashboard/", dashboard.dashboard_page, head=True, access=Access.OPEN),
    Static("/dashboard/static", dashboard.STATIC_DIR, access=Access.OPEN),
)


def expand(entries: Iterable[Entry],
           names: list[str]) -> Iterator[tuple[Entry, str, str]]:
    """(entry, model name or "", path) in serving order: each run of consecutive ``{model}``
    entries once per model."""
    run: list[Entry] = []
    for entry in [*entries, None]:
        if entry is not None and MODEL in entry.path:
            run.append(entry)
            continue
        for name in names if run else ():
            for each in run:
                yield each, name, each.path.replace(MODEL, name)
        run = []
        if entry is not None:
            yield entry, "", entry.path


def canonical(path: str) -> str:
    """A path as the router names it and the documents show it: ``{path:.+}`` is ``{path}``."""
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)


def enabled(settings: Settings) -> list[Entry]:
    """The entries these settings serve."""
    return [e for e in TABLE if e.when is None or e.when(settings)]


def setup_routes(app: web.Application) -> None:
    """Add every enabled entry of :data:`TABLE` to the router under the base path, and keep
    what each router entry serves in ``app[ROUTES]``.

    Needs ``app[SETTINGS]`` and ``app[REGISTRY]``.
    """
    settings, registry = app[SETTINGS], app[REGISTRY]
    wrappers: dict[str, ModelWrapper] = dict(registry.models)
    table: dict[Any, Served] = {}
    for entry, name, path in expand(enabled(settings), list(wrappers)):
        path = settings.base_path + path
        if isinstance(entry, Static):
            for route in app.router.add_static(path, entry.folder):
                table[route] = Served(entry, name)
            continue
        handler = functools.partial(entry.handler, model=wrappers[name]) if name else \
            entry.handler
        if entry.head:  # first, as aiohttp's add_get(allow_head=True) does
            table[app.router.add_route("HEAD", path, handler)] = Served(entry, name)
        table[app.router.add_route(entry.method, path, handler)] = Served(entry, name)
    app[ROUTES] = table


def needs_key(access: Access, protect_all: bool) -> bool:
    """Whether a route with this access needs a key on a server that has keys."""
    return access is Access.KEY or (protect_all and access is not Access.OPEN)


def served(request: web.BaseRequest) -> Served | None:
    """The table's entry the router matched this request to (None: no route matched, or the
    request was never routed: one aiohttp rejected as malformed)."""
    try:
        info: Any = getattr(request, "match_info", None)  # a web.Request's, once routed
    except AssertionError:  # aiohttp asserts it was routed; a request it could not parse
        return None         # (a garbled request line, a 400) never was
    if info is None or info.http_exception is not None:
        return None
    found: Served | None = cast(web.Request, request).app[ROUTES].get(info.route)
    return found


def _fixed_part(path: str) -> str:
    """A path template's regex up to its first parameter other than the model."""
    head = re.split(r"\{(?!model\})", path, maxsplit=1)[0]
    return re.escape(head).replace(re.escape(MODEL), "[^/]+")


# For requests no route matched (a 404, a 405, a redirect to add a slash), derived from the
# table: paths under a keyed route need a key, paths under an open one never do...
KEYED = re.compile("^(?:%s)" % "|".join(
    sorted({_fixed_part(e.path) for e in TABLE if e.access is Access.KEY})))
OPEN_PREFIXES = tuple(sorted({e.path.rstrip("/") for e in TABLE if e.access is Access.OPEN}))
# ...and the access log names the model a path is for.
_MODEL_IN = re.compile("(?:%s)([^/{]+)/" % "|".join(
    sorted({re.escape(e.path.partition(MODEL)[0]) for e in TABLE if MODEL in e.path})))


@functools.lru_cache(maxsize=1024)
def _model_in_path(path: str) -> str:
    found = _MODEL_IN.search(path)
    return found.group(1) if found else ""


def model_in(request: web.BaseRequest) -> str:
    """The model a request is for ("" for the others): the matched route's, else the one its
    path names."""
    match = served(request)
    if match is not None:
        return match.model
    return _model_in_path(request.raw_path.partition("?")[0])

"""The route table (deepaas.api.routes) is the only source of the router, the specification's
paths, the key check and the access log's model."""

from __future__ import annotations

import dataclasses
import html
import io
import json
import re
from typing import Any

import pytest
from aiohttp import web

from deepaas.api.access import AccessLog
from deepaas.api.app import create_app
from deepaas.api.dashboard import STATIC_DIR
from deepaas.api.keys import ROUTES, SETTINGS, SPECS
from deepaas.api.routes import MODEL, TABLE, Route, Static, canonical, expand
from deepaas.config import Settings
from deepaas.model.loading import Registry
from tests.conftest import wrapper


def _unlisted(app: web.Application) -> list[str]:
    """The router's entries that do not serve what the table declares (a handler added to the
    router by hand, or one that strays from its declaration). With --cors-origin, aiohttp-cors
    adds an OPTIONS route (its preflight answer) beside each: those are no API routes."""
    base = app[SETTINGS].base_path
    wrong = []
    for route in app.router.routes():
        if route.method == "OPTIONS" and app[SETTINGS].cors_origin:
            continue
        served = app[ROUTES].get(route)
        resource = route.resource
        found = resource.canonical if resource is not None else ""
        if served is None:
            wrong.append("%s %s: not in the table" % (route.method, found))
            continue
        path = canonical(base + served.entry.path.replace(MODEL, served.model))
        if isinstance(served.entry, Static):
            ok = found == path
        else:
            ok = found == path and route.method in (served.entry.method, "HEAD")
        if not ok:
            wrong.append("%s %s: declared as %s" % (route.method, found, served.entry))
    return wrong


FULL = {"base_path": "/x", "api_key": ("k",), "metrics": True, "doc_endpoint": True}


@pytest.mark.parametrize("options", [{}, FULL, {"metrics": False, "doc_endpoint": False},
                                     {"cors_origin": ("*",)}])
async def test_every_route_on_the_router_is_declared_in_the_table(make_client, options):
    client = await make_client("basic", "trainer", **options)
    app = client.server.app
    assert _unlisted(app) == []
    # ...and every enabled declaration is served, once per model where it names one
    served = {(s.entry, s.model) for s in app[ROUTES].values()}
    settings = app[SETTINGS]
    for entry in TABLE:
        if entry.when is None or entry.when(settings):
            for name in ["basic", "trainer"] if MODEL in entry.path else [""]:
                assert (entry, name) in served, (entry, name)
        else:
            assert entry not in {e for e, _ in served}, entry


def test_a_handler_added_to_the_router_by_hand_is_caught(tmp_path):
    settings = dataclasses.replace(Settings(), data_dir=str(tmp_path), tmp_dir=str(tmp_path))
    app = create_app(settings, Registry.of(wrapper("basic")))  # built, not started: open

    async def stray(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/v2/stray", stray, allow_head=False)
    assert _unlisted(app) == ["GET /v2/stray: not in the table"]


async def test_the_documents_list_exactly_the_documented_routes_in_order(make_client):
    client = await make_client("basic", "trainer", base_path="/x")
    app = client.server.app
    names = ["basic", "trainer"]
    documented = [e for e in TABLE if e.doc is not None]
    expected: list[str] = []
    for _, _, path in expand(documented, names):
        path = "/x" + canonical(path)
        if path not in expected:
            expected.append(path)
    for document in app[SPECS].values():
        assert list(document["paths"]) == expected
    assert next(p for p in expected if p.endswith("predict/")) == "/x/v2/models/basic/predict/"
    for entry, _, path in expand(documented, names):
        assert isinstance(entry, Route) and entry.doc is not None
        path = "/x" + canonical(path)
        op = app[SPECS]["swagger"]["paths"][path][entry.method.lower()]
        assert op["tags"] == [entry.doc.tag] and op["summary"] == entry.doc.summary
        assert set(op["responses"]) == {code for code, _, _ in entry.doc.responses}


async def test_keys_follow_the_declarations_where_no_route_matched(make_client):
    client = await make_client("basic", api_key=("k",))
    # an unknown model, a method the route does not answer: still a key first, as declared
    assert (await client.post("/v2/models/nope/predict/")).status == 401
    assert (await client.get("/v2/models/basic/predict/")).status == 401
    assert (await client.get("/v2/models/basic/train/x/y/z")).status == 401
    resp = await client.get("/v2/models/basic/predict/", headers={"Authorization": "Bearer k"})
    assert resp.status == 405
    assert (await client.get("/v2/nothing")).status == 404  # public: not under a keyed route
    locked = await make_client("basic", api_key=("k",), protect_all=True)
    assert (await locked.get("/v2/nothing")).status == 401
    redirect = await locked.get("/dashboard", allow_redirects=False)  # open, as declared
    assert redirect.status == 308


class _Request(dict):
    remote, method = "127.0.0.1", "GET"

    def __init__(self, raw_path: str, match_info: Any = None, app: Any = None) -> None:
        super().__init__()
        self.raw_path = raw_path
        if match_info is not None:
            self.match_info, self.app = match_info, app


class _Response:
    status, body_length = 200, 1


async def test_the_access_log_names_the_model_of_the_matched_route(make_client):
    client = await make_client("basic", "trainer")
    app = client.server.app
    route = next(r for r, s in app[ROUTES].items() if s.model == "trainer")
    matched = type("Match", (), {"route": route, "http_exception": None})()
    stream = io.StringIO()
    log = AccessLog([stream], as_json=True)
    log.add(_Request("/v2/models/trainer/", matched, app), _Response(), 0.001)  # type: ignore
    log.add(_Request("/v2/models/nope/predict/?n=1"), _Response(), 0.001)  # type: ignore
    log.add(_Request("/v2/models/"), _Response(), 0.001)  # type: ignore
    log.flush()
    models = [json.loads(line)["model"] for line in stream.getvalue().splitlines()]
    assert models == ["trainer", "nope", None]


async def test_the_dashboard_reads_its_paths_from_the_table(make_client):
    client = await make_client("basic", base_path="/x")
    page = await (await client.get("/x/dashboard/")).text()
    found = re.search(r'<meta name="deepaas-paths" content="([^"]*)">', page)
    assert found is not None
    paths = json.loads(html.unescape(found.group(1)))
    assert paths["predict"] == "/v2/models/{model}/predict/"  # the base is the page's own
    assert paths["openapi"] == "/openapi.json" and paths["models"] == "/v2/models/"
    # every path the dashboard's scripts ask for by name is declared, and none by hand
    scripts = "".join(p.read_text() for p in STATIC_DIR.glob("*.js"))
    used = set(re.findall(r'\bpath\("(\w+)"', scripts))
    used |= set(re.findall(r'\bop\("(\w+)"\)', scripts))  # the catalog's spec lookups
    assert {"models", "openapi", "predict", "trainings", "training", "logs", "file"} <= used
    assert used <= set(paths)
    assert "/v2/" not in scripts and ".json\"" not in scripts

"""The Webhook-URL header in both specification documents, only where webhooks are on."""

from __future__ import annotations

from typing import Any

import pytest

from deepaas.api import spec
from deepaas.config import Settings
from deepaas.model.loading import Registry
from tests.conftest import wrapper

POSTS = ("/v2/models/trainer/predict/", "/v2/models/trainer/train/")


def _headers(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {path: [p for p in document["paths"][path]["post"]["parameters"]
                   # DEEPaaS-Resources is always documented, on the train POST
                   if p["in"] == "header" and p["name"] != "DEEPaaS-Resources"]
            for path in POSTS}


def _swagger_schema(param: dict[str, Any]) -> dict[str, Any]:
    return {"type": param["type"], "format": param["format"]}  # Swagger 2.0: inline


def test_the_header_is_documented_where_webhooks_are_on() -> None:
    registry = Registry.of(wrapper("trainer"))
    on = Settings(webhook_allow=("https://hooks.example.org",))
    for document, schema in ((spec.swagger(on, registry), _swagger_schema),
                             (spec.openapi(on, registry), lambda p: p["schema"])):
        for found in _headers(document).values():
            assert [p["name"] for p in found] == ["Webhook-URL"]
            assert found[0]["required"] is False
            assert schema(found[0]) == {"type": "string", "format": "uri"}
    off = Settings()
    for document in (spec.swagger(off, registry), spec.openapi(off, registry)):
        assert _headers(document) == {path: [] for path in POSTS}


def test_the_documents_with_the_header_validate() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    registry = Registry.of(wrapper("trainer"))
    on = Settings(webhook_allow=("https://hooks.example.org",))
    validator.validate(spec.swagger(on, registry), cls=validator.OpenAPIV2SpecValidator)
    validator.validate(spec.openapi(on, registry), cls=validator.OpenAPIV30SpecValidator)

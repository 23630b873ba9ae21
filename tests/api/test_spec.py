"""The API description (swagger.json, openapi.json) and the Swagger UI (contract section 5)."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pytest

from deepaas.api import docs, spec
from deepaas.config import Settings
from deepaas.model.loading import Registry
from deepaas.model.wrapper import ModelWrapper
from tests.models import spec_fake

PREDICTION_ORDER = ["count", "mode", "legacy", "ratio", "ids", "secret", "wire-name", "pct",
                    "image", "old_file", "odd", "nan", "later", "broken", "flag", "accept"]


def registry(*names: str) -> Registry:
    """``fake`` (module with schema and files), ``plain`` (class, no schema), ``twin`` (= fake),
    ``odd`` (a response schema apispec cannot convert)."""
    objects = {"fake": spec_fake, "twin": spec_fake, "plain": spec_fake.Plain(),
               "odd": spec_fake.Odd()}
    return Registry.of(*(ModelWrapper(n, objects[n], "tests.models.spec_fake") for n in names))


def swagger(*names: str, **overrides: Any) -> dict[str, Any]:
    return spec.swagger(Settings(**overrides), registry(*(names or ("fake", "plain"))))


def openapi(*names: str, **overrides: Any) -> dict[str, Any]:
    return spec.openapi(Settings(**overrides), registry(*(names or ("fake", "plain"))))


def params_by_name(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation["parameters"]}


@pytest.fixture
def make_client(serve: Any) -> Any:
    async def make(*names: str, **overrides: Any) -> Any:
        return await serve(registry(*(names or ("fake",))), **overrides)

    return make


# -- Swagger 2.0 --------------------------------------------------------------------------------


def test_swagger_document_has_the_reference_shape():
    doc = swagger()
    assert doc["swagger"] == "2.0"
    assert doc["info"]["title"] == "DEEP as a Service API endpoint"
    assert doc["info"]["version"] and doc["info"]["description"]
    per_model = ["/v2/models/%s/", "/v2/models/%s/predict/", "/v2/models/%s/train/",
                 "/v2/models/%s/train/{uuid}", "/v2/models/%s/train/{uuid}/logs",
                 "/v2/models/%s/train/{uuid}/files/{path}",
                 "/v2/models/%s/predictions/", "/v2/models/%s/predictions/{uuid}",
                 "/v2/models/%s/predictions/{uuid}/result"]
    assert list(doc["paths"]) == ["/", "/v2/", "/v2/debug/", "/v2/models/"] + [
        p % name for name in ("fake", "plain") for p in per_model] + [
        "/v2/resources/", "/v2/health/live", "/v2/health/ready", "/v2/models/fake/ready",
        "/v2/models/plain/ready", "/metrics"]
    assert {"Failure", "Location", "Version", "Versions", "ModelMeta", "Training",
            "TrainingList", "Prediction", "ModelPredictionResponse"} <= set(doc["definitions"])
    assert doc["paths"]["/"]["get"]["tags"] == ["versions"]
    assert doc["paths"]["/"]["get"]["responses"]["200"]["schema"] == {
        "$ref": "#/definitions/Versions"}
    assert doc["paths"]["/v2/debug/"]["get"]["produces"] == ["text/plain"]
    assert doc["definitions"]["TrainingList"]["items"] == {"$ref": "#/definitions/Training"}
    assert doc["definitions"]["Training"]["properties"]["status"]["enum"] == [
        "running", "done", "error", "cancelled"]
    assert doc["definitions"]["AsyncPredictionList"]["items"] == {
        "$ref": "#/definitions/AsyncPrediction"}
    predict = doc["paths"]["/v2/models/fake/predict/"]["post"]["responses"]
    assert predict["202"]["schema"] == {"$ref": "#/definitions/AsyncPrediction"}
    json.dumps(doc, allow_nan=False)


def test_model_operations_and_their_answers():
    paths = swagger()["paths"]
    assert paths["/v2/models/fake/"]["get"]["responses"]["200"]["schema"] == {
        "$ref": "#/definitions/ModelMeta"}
    train = paths["/v2/models/fake/train/"]
    assert set(train) == {"post", "get"}
    assert train["get"]["responses"]["200"]["schema"] == {"$ref": "#/definitions/TrainingList"}
    one = paths["/v2/models/fake/train/{uuid}"]
    assert set(one) == {"get", "delete"}
    for operation in one.values():
        assert operation["parameters"] == [
            {"in": "path", "name": "uuid", "required": True, "type": "string"}]
        assert operation["responses"]["200"]["schema"] == {"$ref": "#/definitions/Training"}
        assert operation["tags"] == ["models"] and operation["produces"] == ["application/json"]


def test_predict_parameters_follow_the_arguments_in_order():
    operation = swagger()["paths"]["/v2/models/fake/predict/"]["post"]
    assert [p["name"] for p in operation["parameters"]] == PREDICTION_ORDER
    params = params_by_name(operation)
    assert params["count"] == {"in": "query", "name": "count", "type": "integer",
                               "format": "int32", "required": True, "description": "how many"}
    assert params["mode"]["enum"] == ["fast", "slow"] and params["mode"]["default"] == "fast"
    assert params["legacy"] == {"in": "query", "name": "legacy", "type": "string",
                                "required": False, "default": "a", "enum": ["a", "b"],
                                "description": "old keywords"}
    assert (params["ratio"]["minimum"], params["ratio"]["maximum"]) == (0, 1)
    assert params["ids"]["type"] == "array" and params["ids"]["collectionFormat"] == "multi"
    assert params["ids"]["items"] == {"type": "integer", "format": "int32"}
    assert params["ids"]["default"] == [1]
    assert params["secret"]["format"] == "password" and params["secret"]["type"] == "string"
    assert params["wire-name"]["default"] == "w"
    assert params["pct"]["type"] == "integer" and params["pct"]["default"] == 3
    # a location="form" field is form data, as DEEPaaS 2.x placed it; the extension tells the
    # dashboard that it is read from the form only
    assert params["flag"] == {"in": "formData", "name": "flag", "type": "boolean",
                              "required": False, "default": False,
                              "x-deepaas-location": "form"}


def test_file_arguments_are_form_data():
    operation = swagger()["paths"]["/v2/models/fake/predict/"]["post"]
    params = params_by_name(operation)
    assert params["image"] == {"in": "formData", "name": "image", "type": "file",
                               "required": True, "description": "an image",
                               "x-deepaas-location": "form"}
    assert params["old_file"] == {"in": "formData", "name": "old_file", "type": "file",
                                  "required": False, "x-deepaas-location": "form"}
    assert operation["consumes"] == ["multipart/form-data"]
    train = swagger()["paths"]["/v2/models/fake/train/"]["post"]
    assert params_by_name(train)["dataset"]["in"] == "formData"
    assert params_by_name(train)["epochs"]["default"] == 1


def test_values_json_cannot_hold_are_left_out():
    params = params_by_name(swagger()["paths"]["/v2/models/fake/predict/"]["post"])
    assert params["odd"]["type"] == "string"  # a plain Field: Swagger 2.0 needs a type
    for name in ("odd", "nan", "later"):
        assert "default" not in params[name], name
    assert params["nan"]["type"] == "number"
    # apispec cannot convert this field at all: it is still listed, as a string.
    assert params["broken"] == {"in": "query", "name": "broken", "required": False,
                                "type": "string"}
    assert "hidden" not in params


def test_predict_produces_the_accept_choices():
    paths = swagger()["paths"]
    fake = paths["/v2/models/fake/predict/"]["post"]
    assert fake["produces"] == ["application/json", "image/png", "*/*"]
    accept = params_by_name(fake)["accept"]
    assert accept["enum"] == ["application/json", "image/png", "*/*"]
    assert accept["default"] == "application/json"
    assert paths["/v2/models/plain/predict/"]["post"]["produces"] == ["application/json"]


def test_response_schema_is_model_prediction_response():
    doc = swagger()
    definition = doc["definitions"]["ModelPredictionResponse"]
    assert definition["properties"]["label"] == {"type": "string",
                                                 "description": "the best class"}
    assert definition["properties"]["scores"] == {"type": "array",
                                                  "items": {"type": "number", "format": "float"}}
    assert definition["properties"]["detail"] == {"$ref": "#/definitions/Detail"}
    assert definition["required"] == ["label"]
    assert doc["definitions"]["ModelPredictionResponse_fake"] == definition
    answers = {name: doc["paths"]["/v2/models/%s/predict/" % name]["post"]["responses"]["200"]
               for name in ("fake", "plain")}
    assert answers["fake"]["schema"] == {"$ref": "#/definitions/ModelPredictionResponse"}
    assert answers["plain"]["schema"] == {"$ref": "#/definitions/Prediction"}


def test_model_prediction_response_describes_the_first_predict_path():
    # Generated UIs read the outputs of the first predict path from ModelPredictionResponse:
    # when that model has no schema, the definition must not describe another model's answer.
    doc = swagger("plain", "fake")
    assert "ModelPredictionResponse" not in doc["definitions"]
    answer = doc["paths"]["/v2/models/fake/predict/"]["post"]["responses"]["200"]
    assert answer["schema"] == {"$ref": "#/definitions/ModelPredictionResponse_fake"}


def test_models_sharing_a_schema_are_described_without_warnings():
    models = registry("fake", "twin")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc = spec.swagger(Settings(), models)
    assert doc["definitions"]["ModelPredictionResponse_twin"] == doc["definitions"][
        "ModelPredictionResponse"]


def test_a_schema_apispec_cannot_convert_is_an_object():
    doc = swagger("odd", "plain")
    assert doc["definitions"]["ModelPredictionResponse"] == {"type": "object"}
    answer = doc["paths"]["/v2/models/odd/predict/"]["post"]["responses"]["200"]
    assert answer["schema"] == {"$ref": "#/definitions/ModelPredictionResponse"}


def test_base_path_prefixes_every_path():
    assert all(path.startswith("/x/") for path in swagger(base_path="/x")["paths"])
    assert all(path.startswith("/x/") for path in openapi(base_path="/x")["paths"])


# -- OpenAPI 3 ----------------------------------------------------------------------------------


def test_openapi_document_moves_files_into_a_multipart_body():
    doc = openapi()
    assert doc["openapi"].startswith("3.0") and "definitions" not in doc
    assert {"Failure", "Training", "TrainingList", "Prediction",
            "ModelPredictionResponse"} <= set(doc["components"]["schemas"])
    operation = doc["paths"]["/v2/models/fake/predict/"]["post"]
    names = [n for n in PREDICTION_ORDER if n not in ("image", "old_file", "flag")]
    assert [p["name"] for p in operation["parameters"]] == names
    params = params_by_name(operation)
    assert params["count"] == {"in": "query", "name": "count", "description": "how many",
                               "schema": {"type": "integer", "format": "int32"},
                               "required": True}
    assert params["mode"]["schema"] == {"type": "string", "default": "fast",
                                        "enum": ["fast", "slow"]}
    assert params["ids"]["explode"] is True and params["ids"]["style"] == "form"
    assert operation["requestBody"] == {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["image"], "properties": {
            "image": {"type": "string", "format": "binary", "description": "an image",
                      "x-deepaas-location": "form"},
            "old_file": {"type": "string", "format": "binary", "x-deepaas-location": "form"},
            # a location="form" field is form data, files or not
            "flag": {"type": "boolean", "default": False, "x-deepaas-location": "form"}}}}}}
    content = operation["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ModelPredictionResponse"}
    assert content["image/png"]["schema"] == {"type": "string", "format": "binary"}
    json.dumps(doc, allow_nan=False)


def test_openapi_operations_without_files_have_no_body():
    doc = openapi()
    plain = doc["paths"]["/v2/models/plain/predict/"]["post"]
    assert "requestBody" not in plain
    assert plain["parameters"] == [{"in": "query", "name": "text", "required": False,
                                    "schema": {"type": "string", "default": "hi"}}]
    uuid = doc["paths"]["/v2/models/plain/train/{uuid}"]["delete"]["parameters"]
    assert uuid == [{"in": "path", "name": "uuid", "required": True,
                     "schema": {"type": "string"}}]


def test_documents_validate_when_a_validator_is_installed():
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(swagger(), cls=validator.OpenAPIV2SpecValidator)
    validator.validate(openapi(), cls=validator.OpenAPIV30SpecValidator)


# -- over HTTP ----------------------------------------------------------------------------------


async def test_documents_are_served_as_json(make_client):
    client = await make_client("fake", "plain")
    for path, build in (("/swagger.json", swagger), ("/openapi.json", openapi)):
        resp = await client.get(path)
        assert resp.status == 200
        assert resp.content_type == "application/json"
        text = await resp.text()
        assert '"swagger": "2.0"' in text or '"openapi": "3.0' in text  # standard separators
        assert json.loads(text) == json.loads(json.dumps(build("fake", "plain")))


async def test_documents_follow_the_base_path(make_client):
    client = await make_client(base_path="/x")
    resp = await client.get("/x/swagger.json")
    assert resp.status == 200
    assert "/x/v2/models/fake/predict/" in (await resp.json())["paths"]
    assert (await client.get("/x/openapi.json")).status == 200
    assert (await client.get("/swagger.json")).status == 404


async def test_swagger_ui_page_works_offline(make_client):
    client = await make_client()
    resp = await client.get("/api")
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    assert "http://" not in page and "https://" not in page  # no CDN
    assert '"/swagger.json"' in page and '"/openapi.json"' in page
    assets = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert {"/static/swagger/swagger-ui-bundle.js", "/static/swagger/swagger-ui.css",
            "/static/swagger/swagger-ui-standalone-preset.js"} <= set(assets)
    for asset in assets:
        answer = await client.get(asset)
        assert answer.status == 200, asset
        assert len(await answer.read()) > 0


async def test_ui_redirects_to_the_page(make_client):
    client = await make_client()
    resp = await client.get("/ui", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/api"


async def test_docs_follow_the_base_path(make_client):
    client = await make_client(base_path="/x")
    page = await (await client.get("/x/api")).text()
    assert '"/x/swagger.json"' in page and 'src="/x/static/swagger/swagger-ui-bundle.js"' in page
    resp = await client.get("/x/ui", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/x/api"
    assert (await client.get("/x/static/swagger/swagger-ui.css")).status == 200
    assert (await client.get("/api")).status == 404


async def test_doc_endpoint_off_keeps_only_the_documents(make_client):
    client = await make_client(doc_endpoint=False)
    for path in ("/api", "/ui", "/static/swagger/swagger-ui.css"):
        assert (await client.get(path, allow_redirects=False)).status == 404, path
    assert (await client.get("/swagger.json")).status == 200


def test_page_cannot_be_broken_by_the_base_path():
    page = docs.render_page('/a"b</script>')
    assert page.count("</script>") == 3  # the two assets and the inline one
    assert 'href="/a&quot;b&lt;/script&gt;/static/swagger/swagger-ui.css"' in page


def test_training_routes_document_filters_logs_and_record_keys():
    doc = swagger()
    listing = doc["paths"]["/v2/models/fake/train/"]["get"]
    assert [p["name"] for p in listing["parameters"]] == ["status", "limit", "offset"]
    logs = doc["paths"]["/v2/models/fake/train/{uuid}/logs"]["get"]
    assert logs["produces"] == ["text/plain"]
    assert [p["name"] for p in logs["parameters"]] == ["uuid", "follow"]
    training = doc["definitions"]["Training"]["properties"]
    assert {"queued", "position", "progress", "metrics"} <= set(training)


def test_exclusive_bounds_and_list_filter_minimums():
    from marshmallow import validate
    from webargs import fields as wf

    from deepaas.api.spec import openapi as oas_doc
    from deepaas.api.spec import swagger as swagger_doc
    from deepaas.config import Settings as S
    from deepaas.model.loading import Registry as R
    from deepaas.model.wrapper import ModelWrapper as MW

    class Module:
        @staticmethod
        def get_train_args():
            return {"lr": wf.Float(load_default=0.1, validate=validate.Range(
                min=0, max=1, min_inclusive=False))}

        @staticmethod
        def predict(**kwargs):
            return kwargs

        @staticmethod
        def train(**kwargs):
            return kwargs

    registry = R.of(MW("excl", Module(), "tests.models.bare"))
    v2 = swagger_doc(S(), registry)
    [lr, _resources] = v2["paths"]["/v2/models/excl/train/"]["post"]["parameters"]
    assert lr["minimum"] == 0 and lr["exclusiveMinimum"] is True and "exclusiveMaximum" not in lr
    listing = v2["paths"]["/v2/models/excl/train/"]["get"]["parameters"]
    assert [p.get("minimum") for p in listing] == [None, 0, 0]
    v3 = oas_doc(S(), registry)
    [lr3, _resources] = v3["paths"]["/v2/models/excl/train/"]["post"]["parameters"]
    assert lr3["schema"]["exclusiveMinimum"] is True


def _module_with_nested(label: str, extra: str) -> Any:
    """A module whose response schema nests a schema class named ``Prediction``."""
    import types

    import marshmallow

    nested = type("PredictionSchema", (marshmallow.Schema,),
                  {label: marshmallow.fields.Str(), extra: marshmallow.fields.Float()})
    response = type("Response", (marshmallow.Schema,),
                    {"predictions": marshmallow.fields.Nested(nested)})
    return types.SimpleNamespace(schema=response, predict=lambda **kwargs: {},
                                 get_predict_args=lambda: {
                                     "version": marshmallow.fields.Str(
                                         validate=marshmallow.validate.Range(min=1))})


@pytest.mark.parametrize("build", [spec.swagger, spec.openapi])
def test_schemas_of_models_written_apart_get_distinct_names_without_warnings(build):
    registry = Registry.of(ModelWrapper("a", _module_with_nested("label", "score"), "a"),
                           ModelWrapper("b", _module_with_nested("name", "prob"), "b"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # apispec's resolver warned on stderr at every start
        doc = build(Settings(), registry)
    schemas = doc.get("definitions") or doc["components"]["schemas"]
    nested = [name for name in schemas if name.startswith("Prediction") and
              set(schemas[name].get("properties", {})) in ({"label", "score"}, {"name", "prob"})]
    assert len(nested) == 2


def test_a_range_on_text_is_a_minimum_as_in_deepaas_2():
    registry = Registry.of(ModelWrapper("a", _module_with_nested("label", "score"), "a"))
    [param] = spec.swagger(Settings(), registry)["paths"]["/v2/models/a/predict/"]["post"][
        "parameters"]
    assert param["minimum"] == 1 and "x-minimum" not in param

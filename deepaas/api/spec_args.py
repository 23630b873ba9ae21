"""A method's arguments in the API documents, each placed where the server reads it.

Arguments become parameters as apispec converts their fields (types, formats, enums, defaults,
ranges, descriptions), then go where DEEPaaS 2.x placed them: a field that names no location
and any ``location="query"`` field is a query parameter, a file or ``location="form"`` field is
form data, ``headers`` a header, ``cookies`` a cookie, and the ``json`` fields together one JSON
body. In OpenAPI 3, form data and the JSON body are the request body's two media types.

Swagger 2.0 has no cookie parameters (DEEPaaS 2.x wrote ``in: cookie`` there, which validators
refuse): those are described in the OpenAPI 3 document only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import marshmallow
from apispec.ext.marshmallow import OpenAPIConverter
from apispec.ext.marshmallow.common import make_schema_key, resolve_schema_instance
from marshmallow import fields

from deepaas.model.args import ArgSpec, client_name, is_file_field, location_of

__all__ = ["ArgumentDocs", "BINARY", "URL_OK", "unique_schema_names"]

LOG = logging.getLogger(__name__)

BINARY = {"type": "string", "format": "binary"}
# Marks a file argument that this server also takes as a URL (--remote-data): the dashboard
# offers a URL field for it.
URL_OK = "x-deepaas-url"
# Marks an argument read from one place only (its module named the location): the dashboard
# sends it there rather than in its form.
LOCATION = "x-deepaas-location"
_URL_HINT = ("Or the file's URL (https://, webdav://, webdavs://, a Nextcloud share link), "
             "fetched by the server.")
_IN = {None: "query", "query": "query", "form": "formData", "files": "formData",
       "headers": "header", "cookies": "cookie", "json": "body"}


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return False
    return True


def scrub(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop values JSON cannot hold (a ``set`` default, a NaN) rather than break the document."""
    for key in ("default", "enum", "example"):
        if key in obj and not _jsonable(obj[key]):
            del obj[key]
    for value in obj.values():
        if isinstance(value, dict):
            scrub(value)
    return obj


def unique_schema_names(registered: Callable[[], Any]) -> Callable[[Any], str]:
    """Name nested schemas by their class, numbered when the name is taken by another one.

    Modules written apart often both have a ``Prediction`` or ``Response`` schema, and ours
    has a ``Prediction`` definition: apispec's own resolver warned on stderr at every start
    then. ``registered()`` answers the names the document holds already.
    """
    taken: dict[str, Any] = {}

    def resolve(schema: Any) -> str:
        key = make_schema_key(resolve_schema_instance(schema))
        base = key[0].__name__
        base = base[:-len("Schema")] or base if base.endswith("Schema") else base
        name, count = base, 1
        while taken.get(name, key) != key or (name not in taken and name in registered()):
            count += 1
            name = "%s%d" % (base, count)
        taken[name] = key
        return name

    return resolve


def _bounds(target: dict[str, Any], field: fields.Field) -> None:
    """A Range's bounds as DEEPaaS 2.x wrote them, and whether they are excluded.

    apispec writes ``x-minimum`` for a Range on a field that is not a number (a text version
    number); DEEPaaS 2.x wrote ``minimum``, which form generators read. A client must not offer
    ``learning_rate=0`` for ``Range(min=0, min_inclusive=False)``.
    """
    for validator in getattr(field, "validators", []):
        if not isinstance(validator, marshmallow.validate.Range):
            continue
        for bound, value in (("minimum", validator.min), ("maximum", validator.max)):
            if "x-" + bound in target and isinstance(value, (int, float)):
                del target["x-" + bound]
                target[bound] = value
        if validator.min is not None and not validator.min_inclusive and "minimum" in target:
            target["exclusiveMinimum"] = True
        if validator.max is not None and not validator.max_inclusive and "maximum" in target:
            target["exclusiveMaximum"] = True


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


class ArgumentDocs:
    """Turns an :class:`ArgSpec` into one operation's parameters (and OpenAPI 3 body)."""

    def __init__(self, converter: OpenAPIConverter, v2: bool, remote_data: bool) -> None:
        self.converter, self.v2, self.remote_data = converter, v2, remote_data

    def apply(self, op: dict[str, Any], args: ArgSpec) -> dict[str, Any]:
        """Add the arguments of ``args`` to the operation ``op``."""
        readable = [(n, f) for n, f in args.readable().items() if location_of(f) != "path"]
        params = [self.parameter(name, field) for name, field in readable]
        body = [(client_name(n, f), f) for n, f in readable if location_of(f) == "json"]
        if self.v2:
            return self._apply_v2(op, params, body)
        form = [p for p in params if p["in"] == "formData"]
        op["parameters"] = [p for p in params if p["in"] not in ("formData", "body")]
        content: dict[str, Any] = {}
        if form:
            content["multipart/form-data"] = {"schema": _object(
                {p["name"]: self._form_property(p) for p in form},
                [p["name"] for p in form if p.get("required")])}
        if body:
            content["application/json"] = {"schema": self._json_schema(body)}
        if content:
            op["requestBody"] = {"content": content}
            if any(p.get("required") for p in form) or (body and not form and
                                                        any(f.required for _, f in body)):
                op["requestBody"]["required"] = True
        return op

    def _apply_v2(self, op: dict[str, Any], params: list[dict[str, Any]],
                  body: list[tuple[str, fields.Field]]) -> dict[str, Any]:
        """DEEPaaS 2.x's order; the JSON fields as one body parameter where the first was."""
        placed: list[dict[str, Any]] = []
        for param in params:
            if param["in"] == "cookie":
                continue
            if param["in"] == "body":
                if not any(p["in"] == "body" for p in placed):
                    placed.append({"in": "body", "name": "body", "required": False,
                                   "schema": self._json_schema(body)})
                continue
            placed.append(param)
        op["parameters"] = placed
        if any(p["in"] == "formData" for p in placed):
            op["consumes"] = ["multipart/form-data"]
        return op

    def _json_schema(self, body: list[tuple[str, fields.Field]]) -> dict[str, Any]:
        properties = {}
        for key, field in body:
            try:
                prop = scrub(self.converter.field2property(field))
            except Exception:  # a module's odd field must not keep the server from starting
                prop = {}
            properties[key] = prop
        return _object(properties, [w for w, f in body if f.required])

    @staticmethod
    def _form_property(param: dict[str, Any]) -> dict[str, Any]:
        """A form parameter as a property of the OpenAPI 3 multipart body."""
        prop = dict(BINARY) if param.get("x-file") else dict(param.get("schema", {}))
        for key in ("description", URL_OK, LOCATION):
            if key in param:
                prop[key] = param[key]
        return prop

    def parameter(self, name: str, field: fields.Field) -> dict[str, Any]:
        """One argument as apispec describes it; a plain string if apispec cannot."""
        try:
            one = marshmallow.Schema.from_dict({name: field}, name="Argument")
            [param] = self.converter.schema2parameters(one, location="query")
            if not _jsonable(scrub(param)):
                raise ValueError("not JSON: %r" % (param,))
        except Exception as exc:  # a module's odd field must not keep the server from starting
            LOG.warning("cannot describe argument %r in the API spec (%s: %s); shown as a string",
                        name, type(exc).__name__, exc)
            param = {"in": "query", "name": client_name(name, field), "required": field.required}
            param.update({"type": "string"} if self.v2 else {"schema": {"type": "string"}})
        _bounds(param if self.v2 else param.get("schema", {}), field)
        location = location_of(field)
        param["in"] = _IN[location]
        if location is not None:
            param[LOCATION] = location
        if is_file_field(field):
            self._file(param, location)
        elif self.v2:  # Swagger 2.0 needs a type; a plain Field (or a List of them) has none
            param.setdefault("type", "string")
            if param["type"] == "array" and not param.get("items"):
                param["items"] = {"type": "string"}
        return param

    def _file(self, param: dict[str, Any], location: str | None) -> None:
        if location in (None, "query"):  # a file is uploaded as form data all the same
            param["in"] = "formData"
        if not self.v2 and param["in"] == "formData":
            param["x-file"] = True  # read by _form_property, never published
        if self.remote_data and location != "files":  # only these take a URL as text
            param[URL_OK] = True
            param["description"] = " ".join(filter(None, (param.get("description"),
                                                          _URL_HINT)))

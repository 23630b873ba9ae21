"""What the Gradio UI of AI4OS (ai4os/deepaas_ui) reads from a DEEPaaS ``swagger.json``.

Written from reading its ``launch.py`` (``main``) and ``ui_utils.py`` (``api2gr_inputs``,
``api2gr_outputs``, ``api_call``), without Gradio: each component is described by a plain dict.
What the UI does, step by step:

1. GET ``{api_url}swagger.json``; take the first path ending in ``predict/`` (a path holding
   ``/deepaas-test/`` means "no model"); its ``post.parameters``, each ``type`` defaulting to
   ``string``; GET the model's metadata at ``{api_url}/{parent of the path}/`` (a double slash).
2. One tab per media type in ``post.produces`` except ``*/*`` (``produces`` must be there).
3. Inputs: ``accept`` is skipped; the keys read are ``name``, ``type``, ``enum``, ``default``,
   ``description`` (up to its first blank line), ``minimum``/``maximum`` (a slider only for an
   integer with both). ``in``, ``required``, ``format``, ``items`` and ``collectionFormat`` are
   never read: a list is a text box of comma-separated JSON values.
4. Outputs of the ``application/json`` tab: ``definitions.ModelPredictionResponse.properties``
   (its ``type`` and ``description``), else the raw JSON answer's ``predictions``.
5. The request: POST ``{api_url}/{path}`` with the trailing slash stripped (the server's 308
   leads to the slashed path), ``accept`` both as a header and a query value, every filled
   non-file input as a query value (even one documented ``in: formData``), every file as a
   multipart part named by the parameter, its file name and guessed media type.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from pathlib import Path
from typing import Any

__all__ = ["UIError", "predict_path", "tabs", "inputs", "outputs", "request", "shown"]

MEDIA = ("image", "audio", "video")


class UIError(Exception):
    """Where the UI stops with an exception: it cannot render the spec, or shows an error."""


def predict_path(spec: dict[str, Any]) -> str:
    """The first path ending in ``predict/``, in the document's order."""
    paths = [p for p in spec["paths"] if p.endswith("predict/")]
    if not paths or "/deepaas-test/" in paths[0]:
        raise UIError("No model could be found.")
    return paths[0]


def _parameters(spec: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [{**p, "type": p.get("type", "string")}
            for p in spec["paths"][path]["post"]["parameters"]]


def _media(description: str) -> str | None:
    """The media a file or base64 string is shown as, from the words in its description."""
    text = description.lower()
    found = [m for m in MEDIA if m in text]
    return found[0] if len(found) == 1 else None


def _input(param: dict[str, Any]) -> dict[str, Any]:
    kind, ptype = None, param["type"]
    info = param.get("description", "").split("\n\n")[0]
    component = {"label": param["name"], "info": info, "value": param.get("default"),
                 "file": ptype == "file", "list": ptype == "array"}
    if "enum" in param:
        return {**component, "kind": "dropdown", "choices": param["enum"]}
    if ptype in ("integer", "number"):
        if ptype == "integer" and {"minimum", "maximum"} <= param.keys():
            return {**component, "kind": "slider", "minimum": param["minimum"],
                    "maximum": param["maximum"], "step": 1}
        kind = "number"
    elif ptype == "boolean":
        kind = "checkbox"
    elif ptype in ("string", "array"):
        kind = "textbox"
    elif ptype == "file":
        kind = _media(param.get("description", "")) or "file"
        component["value"] = None
    if kind is None:
        raise UIError("UI does not support some of the input data types: `%s` :: %s"
                      % (param["name"], ptype))
    return {**component, "kind": kind}


def inputs(params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``api2gr_inputs``: one component per parameter but ``accept``; a file is followed by an
    HTML component showing its description (Gradio's file components have no ``info``)."""
    components = []
    for param in params:
        if param["name"] == "accept":
            continue
        component = _input(param)
        components.append(component)
        if component["file"]:
            components.append({"kind": "html", "label": "%s-info" % param["name"],
                               "value": component["info"]})
    return components


def _output(name: str, prop: dict[str, Any]) -> dict[str, Any] | None:
    if "type" not in prop:
        return {"label": name, "kind": "textbox"}
    if name in ("labels", "probabilities"):
        return None
    kind = {"integer": "number", "number": "number", "array": "textbox",
            "object": "json"}.get(prop["type"])
    if prop["type"] in ("string", "boolean"):
        kind = _first_media(prop.get("description", "")) or "textbox"
    if kind is None:
        raise UIError("UI does not support some of the output data types: %s [%s]"
                      % (name, prop["type"]))
    return {"label": name, "kind": kind}


def _first_media(description: str) -> str | None:
    # outputs take the first medium named (inputs need exactly one)
    text = description.lower()
    return next((m for m in MEDIA if m in text), None)


def outputs(properties: dict[str, Any]) -> list[dict[str, Any]]:
    """``api2gr_outputs``: one component per response property; ``labels`` and
    ``probabilities`` together make one "classification scores" label at the end."""
    components = [c for name, prop in properties.items() if (c := _output(name, prop))]
    if {"labels", "probabilities"} <= properties.keys():
        components.append({"label": "classification scores", "kind": "label"})
    return components


def _tab(spec: dict[str, Any], params: list[dict[str, Any]], mime: str) -> dict[str, Any]:
    tab: dict[str, Any] = {"mime": mime, "inputs": inputs(params), "schema": False}
    if mime == "application/json":
        try:
            properties = spec["definitions"]["ModelPredictionResponse"]["properties"]
            tab.update(outputs=outputs(properties), schema=True)
        except (KeyError, UIError):
            tab["outputs"] = {"kind": "json"}  # the UI warns and falls back to raw JSON
        return tab
    top = mime.split("/")[0]
    if top in MEDIA:
        tab["outputs"] = {"kind": top}
    elif top == "application":
        tab["outputs"] = {"kind": "file"}
    else:
        raise UIError("DEEPaaS API output MIME not supported for Gradio rendering: %s" % mime)
    return tab


def tabs(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The whole interface the UI builds: one tab per answer media type but ``*/*``."""
    path = predict_path(spec)
    params = _parameters(spec, path)
    return [_tab(spec, params, mime) for mime in spec["paths"][path]["post"]["produces"]
            if mime != "*/*"]


def _as_shown(component: dict[str, Any]) -> Any:
    """The value Gradio hands back for a component the user left as it was built."""
    value = component.get("value")
    if component["kind"] == "textbox" and value is not None:
        return str(value)  # a text box holds text: a list default becomes "[0.1, 0.2]"
    return value


def request(spec: dict[str, Any], mime: str, filled: dict[str, Any]) -> dict[str, Any]:
    """``api_call``'s request when a user filled in ``filled`` (files as paths) and left the
    other inputs as the UI showed them: the URL path, query pairs, headers and multipart files
    (name -> (file name, bytes, media type or None))."""
    path = predict_path(spec)
    params = _parameters(spec, path)
    values = {c["label"]: _as_shown(c) for c in inputs(params) if c["kind"] != "html"}
    values.update(filled)
    query: list[tuple[str, str]] = []
    files: dict[str, tuple[str, bytes, str | None]] = {}
    for param in params:
        value = values.get(param["name"])
        if param["name"] == "accept" or (not value and not isinstance(value, bool)):
            continue  # an empty input is not sent
        if param["type"] == "integer":
            value = int(value)
        elif param["type"] == "array" and isinstance(value, str):
            value = json.loads("[%s]" % value)
        if param["type"] == "file":
            guessed = mimetypes.guess_type(str(value))[0]
            files[param["name"]] = (Path(value).name, Path(value).read_bytes(), guessed)
        elif isinstance(value, list):  # requests repeats the key for each item
            query.extend((param["name"], str(v)) for v in value)
        else:  # and writes a value with str(): True -> "True"
            query.append((param["name"], str(value)))
    query.append(("accept", mime))
    return {"path": "/" + path.strip("/"), "query": query, "headers": {"accept": mime},
            "files": files}


def shown(tab: dict[str, Any], status: int, body: bytes) -> Any:
    """What the tab shows for an answer: for JSON with a schema, one value per output (media
    decoded from base64 to bytes; the scores as {label: probability}); without a schema, the
    answer's ``predictions``; for another media type, the body saved as a file (its bytes)."""
    if tab["mime"] != "application/json":
        return body
    text = body.decode("utf-8")
    if status != 200:
        raise UIError(text)
    answer = json.loads(text)
    if answer.get("status", "") == "error":
        raise UIError(answer["message"])
    if not tab["schema"]:
        return answer["predictions"]
    values = []
    for output in tab["outputs"]:
        value = answer.get(output["label"])
        if output["kind"] == "label":
            value = dict(zip(answer["labels"], answer["probabilities"], strict=False))
        elif output["kind"] in MEDIA:
            value = base64.b64decode(value.encode("utf-8"))
        values.append(value)
    return values

"""deepaas-cli options generated from a module's arguments (the ArgSpec the server uses).

Values arrive as strings and go through the very validation of the HTTP API
(:func:`deepaas.model.args.validate`), so a bad value gets the same message as a 422.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import dataclasses
import json
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import marshmallow
from marshmallow import fields as ma_fields

from deepaas.api.app import remote_options
from deepaas.config import load_settings
from deepaas.exceptions import InvalidInput
from deepaas.files import owned_prefix, remove_files
from deepaas.model import args as margs
from deepaas.model.wrapper import UploadedFile
from deepaas.storage.arguments import fetch_remote
from deepaas.storage.remote import RemoteData, looks_like_url

__all__ = ["add_arguments", "collect", "temp_uploads"]

_PREFIX = "arg:"
_TYPES = ((ma_fields.Boolean, "boolean: true/false, yes/no, 1/0"), (ma_fields.Integer, "integer"),
          (ma_fields.Float, "number"), (ma_fields.Number, "number"),
          (ma_fields.Dict, "dict: a JSON or Python literal"), (ma_fields.String, "string"))


def _type_name(field: ma_fields.Field) -> str:
    if margs.is_file_field(field):
        return "path to a file"
    if isinstance(field, ma_fields.List):
        inner = field.inner
        return "list of %s: repeat the option, or one JSON/Python list" % _type_name(inner)
    for kind, name in _TYPES:
        if isinstance(field, kind):
            return name
    return "value"


def _help(field: ma_fields.Field, choices: tuple[str, ...] | None) -> str:
    parts = [str(field.metadata.get("description", "")).strip(), "Type: %s." % _type_name(field)]
    default = margs.field_default(field)
    if field.required:
        parts.append("Required.")
    elif default is not marshmallow.missing and not callable(default):
        parts.append("Default: %s." % json.dumps(default, default=str))
    if choices:
        parts.append("Choices: %s." % ", ".join(map(str, choices)))
    # argparse formats help with %: keep module text literal
    return " ".join(p for p in parts if p).replace("%", "%%")


def _choices(name: str, field: ma_fields.Field, spec: margs.ArgSpec) -> tuple[str, ...] | None:
    if name == "accept" and spec.accept_choices:
        return spec.accept_choices
    for validator in getattr(field, "validators", []):
        if isinstance(validator, marshmallow.validate.OneOf):
            return tuple(str(c) for c in validator.choices)
    return None


def _flags(name: str, key: str, taken: set[str]) -> list[str]:
    """An argument's option names: its client name, the same with ``-`` for ``_``, and the
    name of its attribute where that differs (``data_key``), which DEEPaaS 2.x's option was;
    an alias another argument already has is left out."""
    main = "--" + key
    aliases = dict.fromkeys(("--" + key.replace("_", "-"), "--" + name))
    return [main] + [a for a in aliases if a != main and a not in taken]


def add_arguments(parser: argparse.ArgumentParser, spec: margs.ArgSpec) -> None:
    """One option per argument a client may send, named by its client name."""
    group = parser.add_argument_group("arguments of the model")
    readable = spec.readable()
    taken = {"--" + margs.client_name(n, f) for n, f in readable.items()}
    for name, field in readable.items():
        key = margs.client_name(name, field)
        flags = _flags(name, key, taken)
        taken.update(flags)
        many = isinstance(field, ma_fields.List)
        group.add_argument(*flags, dest=_PREFIX + key, action="append" if many else "store",
                           metavar="PATH" if margs.is_file_field(field) else "VALUE",
                           help=_help(field, _choices(name, field, spec)))


def _literal(text: str) -> Any:
    for parse in (json.loads, ast.literal_eval):
        with contextlib.suppress(ValueError, SyntaxError):
            return parse(text)
    return text


def _value(field: ma_fields.Field, raw: Any) -> Any:
    if isinstance(field, ma_fields.List):
        # One option holding a literal list or tuple (``[1, 2]``, ``1,2``) is that list, as
        # DEEPaaS 2.x read it; anything else is a one-item list, checked item by item.
        parsed = _literal(raw[0]) if len(raw) == 1 else None
        return list(parsed) if isinstance(parsed, (list, tuple)) else raw
    if isinstance(field, (ma_fields.Dict, ma_fields.Nested)) or (
            isinstance(raw, str) and raw.lstrip()[:1] in ("{", "[")
            and not isinstance(field, ma_fields.String)):
        return _literal(raw)
    return raw


def collect(spec: margs.ArgSpec, namespace: argparse.Namespace) -> dict[str, Any]:
    """The key data the options gave, with literals read and file paths checked."""
    data: dict[str, Any] = {}
    missing: dict[str, list[str]] = {}
    given = vars(namespace)
    for name, field in spec.readable().items():
        key = margs.client_name(name, field)
        raw = given.get(_PREFIX + key)
        if raw is None:
            continue
        if margs.is_file_field(field) and not looks_like_url(raw) and not os.path.isfile(raw):
            missing[key] = ["No such file: %s" % raw]
        data[key] = _value(field, raw)
    if missing:
        raise InvalidInput(missing)
    return data


def _remote() -> RemoteData:
    """Whoever runs deepaas-cli names the URLs and can reach them anyway: any HTTP or WebDAV
    URL is fetched, unless the configuration (DEEPAAS_* variables, DEEPAAS_CONFIG_FILE) sets
    --remote-data; the cache and storage credentials are the server's."""
    settings = load_settings([], prog="deepaas-cli")
    if not settings.remote_data:
        schemes = ("http", "https", "webdav", "webdavs")
        settings = dataclasses.replace(settings, remote_private=True, remote_data=tuple(
            "%s://*%s" % (scheme, port) for scheme in schemes for port in ("", ":*")))
    return RemoteData(remote_options(settings))


def _fetch_all(spec: margs.ArgSpec, kwargs: dict[str, Any], tmp_dir: str | None,
               copies: list[str]) -> dict[str, Any]:
    """``kwargs`` with each file argument given as a URL fetched into a temp file."""
    wanted = {n: f for n, f in spec.readable().items() if margs.is_file_field(f)}
    # Only the URLs: the other values are paths of files here, which the server would refuse
    # (``collect`` checked that they exist).
    data = {margs.client_name(n, f): kwargs[n] for n, f in wanted.items()
            if looks_like_url(kwargs.get(n))}
    if not data:
        return kwargs

    async def fetch() -> None:
        remote = _remote()
        try:
            await fetch_remote(margs.ArgSpec(fields=wanted, schema=spec.schema), data, remote,
                               tmp_dir, copies)
        finally:
            await remote.close()

    asyncio.run(fetch())
    return {**kwargs, **{n: data[margs.client_name(n, f)] for n, f in wanted.items()
                         if margs.client_name(n, f) in data}}


@contextlib.contextmanager
def temp_uploads(spec: margs.ArgSpec, kwargs: dict[str, Any],
                 tmp_dir: str | None = None) -> Iterator[dict[str, Any]]:
    """Copy each file argument (a validated path) to a temp file and pass it as an
    ``UploadedFile``, as the HTTP API does (a URL is fetched, as the server would); the
    copies are removed when the block ends."""
    copies: list[str] = []
    try:
        converted = _fetch_all(spec, kwargs, tmp_dir, copies)
        for name, field in spec.readable().items():
            path = converted.get(name)
            if not margs.is_file_field(field) or not isinstance(path, str):
                continue
            fd, copy = tempfile.mkstemp(prefix=owned_prefix("upload"), dir=tmp_dir)
            copies.append(copy)
            with os.fdopen(fd, "wb") as target, open(path, "rb") as source:
                shutil.copyfileobj(source, target)
            converted[name] = UploadedFile(
                name=margs.client_name(name, field), filename=copy,
                original_filename=os.path.basename(path),
                content_type=mimetypes.guess_type(path)[0] or "application/octet-stream")
        yield converted
    finally:
        remove_files(copies)

"""Reading a module's arguments from a request: query, form, multipart files and JSON."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections.abc import Sequence
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from multidict import MultiMapping

from deepaas.config import Settings
from deepaas.exceptions import BadRequest, PayloadTooLarge
from deepaas.files import remove_files
from deepaas.model import args as margs
from deepaas.model.wrapper import UploadedFile
from deepaas.storage.arguments import fetch_remote
from deepaas.storage.remote import RemoteData

__all__ = ["Inputs", "read_inputs"]

_CHUNK = 256 * 1024
_MAX_PARTS = 1000  # multipart parts in one request: arguments are a handful, not thousands


@dataclasses.dataclass
class Inputs:
    """Validated keyword arguments and the temp files they point to (owned by the caller)."""

    kwargs: dict[str, Any]
    files: list[str]
    #: The URL each file argument given as one was fetched from.
    urls: dict[str, str] = dataclasses.field(default_factory=dict)

    def cleanup(self) -> None:
        remove_files(self.files)
        self.files.clear()


def _multi(pairs: MultiMapping[Any]) -> dict[str, list[Any]]:
    return {key: list(pairs.getall(key)) for key in pairs.keys()}


class _Limit:
    def __init__(self, max_size: int) -> None:
        self.max_size, self.seen = max_size, 0

    def add(self, size: int) -> None:
        self.seen += size
        if self.max_size and self.seen > self.max_size:
            raise PayloadTooLarge("Request body larger than the %d bytes this server accepts "
                                  "(--client-max-size)" % self.max_size)


async def _save_file(part: BodyPartReader, settings: Settings, limit: _Limit,
                     files: list[str]) -> UploadedFile:
    fd, path = tempfile.mkstemp(prefix="deepaas-upload-", dir=settings.tmp_dir or None)
    files.append(path)
    with os.fdopen(fd, "wb") as handle:
        while chunk := await part.read_chunk(_CHUNK):
            limit.add(len(chunk))
            handle.write(chunk)
    return UploadedFile(name=part.name, filename=path,
                        content_type=part.headers.get("Content-Type", "application/octet-stream"),
                        original_filename=part.filename)


async def _read_multipart(request: web.Request, wanted: frozenset[str], settings: Settings,
                          files: list[str]) -> dict[str, list[Any]]:
    form: dict[str, list[Any]] = {}
    limit = _Limit(settings.client_max_size)
    reader = await request.multipart()
    parts = 0
    while (part := await reader.next()) is not None:
        parts += 1
        if parts > _MAX_PARTS:
            raise BadRequest({"form": ["More than %d parts in one request." % _MAX_PARTS]})
        if not isinstance(part, BodyPartReader):  # a nested multipart is no argument
            await part.release()
            continue
        if part.name not in wanted:  # unknown parts are ignored, never written to disk
            while chunk := await part.read_chunk(_CHUNK):
                limit.add(len(chunk))
            continue
        if part.filename is not None:
            value: Any = await _save_file(part, settings, limit, files)
        else:
            raw = await part.read()
            limit.add(len(raw))
            value = raw.decode(part.get_charset(default="utf-8"), errors="replace")
        form.setdefault(part.name, []).append(value)
    return form


async def _read_json(request: web.Request) -> dict[str, Any] | None:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest({"json": ["Invalid JSON body."]}) from None
    except RecursionError:  # nesting deeper than the interpreter's stack allows
        raise BadRequest({"json": ["JSON body nested too deeply."]}) from None
    return body if isinstance(body, dict) else None


def _from_accept_header(header: str, choices: Sequence[str]) -> str | None:
    """The first media type of an Accept header that the module offers (by quality)."""
    ranked = []
    for index, item in enumerate(header.split(",")):
        media, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, val = param.strip().partition("=")
            if key == "q":
                with contextlib.suppress(ValueError):
                    quality = float(val)
        ranked.append((-quality, index, media.strip().lower()))
    for _, _, media in sorted(ranked):
        if media == "*/*":
            return None
        if media in choices:
            return media
    return None


# What a malformed body raises while aiohttp reads it: a client's mistake, answered 400.
_UNREADABLE = (ValueError, LookupError, HttpProcessingError, RequestPayloadError)


async def _read_body(request: web.Request, wanted: frozenset[str], settings: Settings,
                     files: list[str]) -> tuple[dict[str, list[Any]] | None, Any]:
    """The form (multipart or urlencoded) or the JSON body; other bodies are ignored."""
    try:
        if request.content_type == "multipart/form-data":
            return await _read_multipart(request, wanted, settings, files), None
        if request.content_type == "application/x-www-form-urlencoded":
            return _multi(await request.post()), None
        if request.content_type == "application/json":
            return None, await _read_json(request)
    except _UNREADABLE as exc:
        raise BadRequest({"body": ["Could not read the request body: %s" % exc]}) from None
    return None, None


def _lowered(headers: MultiMapping[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in headers.items():
        found.setdefault(key.lower(), []).append(value)
    return found


async def _sources(request: web.Request, spec: margs.ArgSpec, settings: Settings,
                   files: list[str]) -> margs.Sources:
    """The places the module's arguments may be read from; the body only when one may be."""
    places = spec.locations
    body: dict[str, list[Any]] | None = None
    json_body = None
    if places & {"form", "files", "json"}:
        body, json_body = await _read_body(request, spec.body_names, settings, files)
    return margs.Sources(
        query=_multi(request.query), form=body or {}, json=json_body,
        headers=_lowered(request.headers) if "headers" in places else {},
        cookies={k: [v] for k, v in request.cookies.items()} if "cookies" in places else {})


async def read_inputs(request: web.Request, spec: margs.ArgSpec, settings: Settings,
                      remote: RemoteData | None = None) -> Inputs:
    """Collect and validate the arguments; the caller owns (and must clean) the files."""
    files: list[str] = []
    limit = settings.client_max_size
    if limit and request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge("Request body of %d bytes is larger than the %d bytes this server "
                              "accepts (--client-max-size)" % (request.content_length, limit))
    try:
        data = margs.collect(spec, await _sources(request, spec, settings, files))
        wire = spec.accept_wire
        if wire and wire not in data and spec.accept_choices:
            chosen = _from_accept_header(request.headers.get("Accept", ""), spec.accept_choices)
            if chosen:
                data[wire] = chosen
        urls: dict[str, str] = {}
        await fetch_remote(spec, data, remote, settings.tmp_dir or None, files, urls)
        return Inputs(margs.validate(spec, data), files, urls)
    except BaseException:
        Inputs({}, files).cleanup()
        raise

"""Reading a module's arguments from a request: query, form, multipart files and JSON."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import urllib.parse
from collections.abc import Sequence
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from multidict import MultiMapping

from deepaas.api.bodies import BodyBudget, Held, decode_json
from deepaas.config import Settings
from deepaas.exceptions import BadRequest, PayloadTooLarge
from deepaas.files import owned_prefix, remove_files
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


def _too_many_fields(limit: int) -> PayloadTooLarge:
    # Not the body's size: a small body may hold many fields.
    return PayloadTooLarge("A form of more than %d fields: this server reads %d at most (a "
                           "fixed limit)" % (limit, limit))


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
    fd, path = tempfile.mkstemp(prefix=owned_prefix("upload"), dir=settings.tmp_dir or None)
    files.append(path)
    with os.fdopen(fd, "wb") as handle:
        while chunk := await part.read_chunk(_CHUNK):
            limit.add(len(chunk))
            handle.write(chunk)
    return UploadedFile(name=part.name, filename=path,
                        content_type=part.headers.get("Content-Type", "application/octet-stream"),
                        original_filename=part.filename)


async def _read_text_part(part: BodyPartReader, limit: _Limit, held: Held) -> bytearray:
    """A form field's bytes, held in memory: counted like a JSON body."""
    raw = bytearray()
    while chunk := await part.read_chunk(_CHUNK):
        limit.add(len(chunk))
        held.reserve(held.size + len(chunk))
        raw.extend(chunk)
    return raw


async def _read_multipart(request: web.Request, wanted: frozenset[str], settings: Settings,
                          files: list[str], held: Held) -> dict[str, list[Any]]:
    form: dict[str, list[Any]] = {}
    limit = _Limit(settings.client_max_size)
    reader = await request.multipart()
    parts = 0
    while (part := await reader.next()) is not None:
        parts += 1
        if parts > _MAX_PARTS:
            raise _too_many_fields(_MAX_PARTS)
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
            raw = await _read_text_part(part, limit, held)
            value = raw.decode(part.get_charset(default="utf-8"), errors="replace")
        form.setdefault(part.name, []).append(value)
    return form


async def _read_buffered(request: web.Request, held: Held) -> bytearray:
    """The whole body, counted as it comes (a declared length before anything is read).

    Read here rather than with ``request.read()``, which keeps the bytes for the request's
    whole life and knows only --client-max-size.
    """
    if request.content_length is not None:
        held.reserve(request.content_length)
    body = bytearray()  # grows in place: no second copy of the whole body to join chunks
    async for chunk in request.content.iter_any():
        held.reserve(len(body) + len(chunk))  # a compressed body may outgrow its length
        body.extend(chunk)
    return body


def _decode_form(raw: bytearray, charset: str, max_fields: int) -> dict[str, list[Any]]:
    """Urlencoded pairs, decoded as aiohttp does, with its limit on the number of fields."""
    text = raw.rstrip().decode(charset)
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, encoding=charset,
                                       max_num_fields=max_fields or None)
    except ValueError:  # past max_fields (aiohttp's limit)
        raise _too_many_fields(max_fields) from None
    form: dict[str, list[Any]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


async def _read_form(request: web.Request, held: Held) -> dict[str, list[Any]]:
    raw = await _read_buffered(request, held)
    max_fields = getattr(request, "client_max_fields", 0)  # aiohttp 3.14 on
    return await held.run(_decode_form, raw, request.charset or "utf-8", max_fields)


def _decode_json(raw: bytearray) -> dict[str, Any] | None:
    if not raw or raw.isspace():
        return None
    try:
        body = decode_json(raw)
    except ValueError:
        raise BadRequest({"json": ["Invalid JSON body."]}) from None
    except RecursionError:  # nesting deeper than the interpreter's stack allows
        raise BadRequest({"json": ["JSON body nested too deeply."]}) from None
    return body if isinstance(body, dict) else None


async def _read_json(request: web.Request, held: Held) -> dict[str, Any] | None:
    return await held.run(_decode_json, await _read_buffered(request, held))


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
                     files: list[str], held: Held) -> tuple[dict[str, list[Any]] | None, Any]:
    """The form (multipart or urlencoded) or the JSON body; other bodies are ignored."""
    try:
        if request.content_type == "multipart/form-data":
            return await _read_multipart(request, wanted, settings, files, held), None
        if request.content_type == "application/x-www-form-urlencoded":
            return await _read_form(request, held), None
        if request.content_type == "application/json":
            return None, await _read_json(request, held)
    except _UNREADABLE as exc:
        raise BadRequest({"body": ["Could not read the request body: %s" % exc]}) from None
    return None, None


def _lowered(headers: MultiMapping[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in headers.items():
        found.setdefault(key.lower(), []).append(value)
    return found


async def _sources(request: web.Request, spec: margs.ArgSpec, settings: Settings,
                   files: list[str], held: Held) -> margs.Sources:
    """The places the module's arguments may be read from; the body only when one may be."""
    places = spec.locations
    body: dict[str, list[Any]] | None = None
    json_body = None
    if places & {"form", "files", "json"}:
        body, json_body = await _read_body(request, spec.body_names, settings, files, held)
    return margs.Sources(
        query=_multi(request.query), form=body or {}, json=json_body,
        headers=_lowered(request.headers) if "headers" in places else {},
        cookies={k: [v] for k, v in request.cookies.items()} if "cookies" in places else {})


async def read_inputs(request: web.Request, spec: margs.ArgSpec, settings: Settings,
                      remote: RemoteData | None = None,
                      budget: BodyBudget | None = None) -> Inputs:
    """Collect and validate the arguments; the caller owns (and must clean) the files.

    A body read into memory counts in ``budget`` until the arguments are validated; a big
    one is parsed and validated in a thread.
    """
    files: list[str] = []
    held = (budget or BodyBudget(0)).hold(settings)
    limit = settings.client_max_size
    if limit and request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge("Request body of %d bytes is larger than the %d bytes this server "
                              "accepts (--client-max-size)" % (request.content_length, limit))
    try:
        data = margs.collect(spec, await _sources(request, spec, settings, files, held))
        key = spec.accept_name
        if key and key not in data and spec.accept_choices:
            chosen = _from_accept_header(request.headers.get("Accept", ""), spec.accept_choices)
            if chosen:
                data[key] = chosen
        urls: dict[str, str] = {}
        await fetch_remote(spec, data, remote, settings.tmp_dir or None, files, urls)
        return Inputs(await held.run(margs.validate, spec, data), files, urls)
    except BaseException:
        Inputs({}, files).cleanup()
        raise
    finally:
        held.release()

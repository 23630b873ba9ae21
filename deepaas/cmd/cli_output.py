"""Where deepaas-cli's results go: standard output, the output file, and streamed answers.

A plain JSON result is one document on standard output (and in ``--deepaas_method_output``);
a binary one goes to a file, and standard output says where. A ``predict`` result's file gets
the extension of its media type when it has another one, as DEEPaaS 2.x did (:func:`renamed`),
and a log line says where it went: scripts (AI4OS's OSCAR service script) read both lines.
A streamed answer (a ``predict`` that returns a generator, see :mod:`deepaas.model.streams`)
is written as it comes: each JSON item one line on standard output (NDJSON), flushed at once;
bytes items appended to the binary file. When the generator raises, what came stays written
and the error ends the command.
"""

from __future__ import annotations

import datetime
import logging
import mimetypes
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

from deepaas.model.outputs import JSON_TYPES, Answer, dumps
from deepaas.model.streams import BINARY, Chunk, Kind
from deepaas.model.wrapper import ModelWrapper

__all__ = ["StreamSink", "binary_target", "drain", "drain_async", "emit", "renamed", "saved",
           "write_answer"]

LOG = logging.getLogger("deepaas.cli")
NDJSON = "application/x-ndjson"
#: The start of the line that says where a renamed output went; the path is the fifth
#: space-separated field of that line (the OSCAR service script cuts it there).
NEW_OUTPUT = "===================> New output is"


def renamed(target: str, media: str | None) -> str:
    """Where a ``predict`` result asked to go to ``target`` goes: ``target`` plus the
    extension of ``media`` (``.json`` when the module has no ``accept`` argument) when its own
    extension is another, as DEEPaaS 2.x decided; a warning ending in the line
    ``===================> New output is PATH`` says so. A media type with no known extension
    (``*/*``, ``image/*``) leaves ``target`` as it is."""
    extension = mimetypes.guess_extension(media) if media else ".json"
    current = os.path.splitext(target)[1]
    if extension is None or extension == current:
        return target
    new = target + extension
    LOG.warning("the output file %s is not named for %s data (%s)\n%s %s", target,
                media or "JSON", extension, NEW_OUTPUT, new)
    return new


def saved(path: str | Path) -> None:
    """The line that says where the result was written."""
    LOG.info("return: Output is saved in %s", path)


def emit(out: BinaryIO, result: Any, target: str | None) -> None:
    """``result`` as one JSON document on ``out``, and in ``target`` when one is given."""
    text = dumps(result)
    out.write(text.encode("utf-8") + b"\n")
    out.flush()
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text + "\n", encoding="utf-8")
        saved(target)


def binary_target(model: str, content_type: str, target: str | None) -> Path:
    """The file a binary answer goes to: ``target`` (given the media type's extension by
    :func:`renamed`), else ``MODEL-predict-STAMP.EXT`` in the current folder."""
    media = content_type.split(";")[0].strip()
    if target:
        return Path(renamed(target, media)).resolve()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    extension = mimetypes.guess_extension(media) or ".bin"
    return Path("%s-predict-%s%s" % (model, stamp, extension)).resolve()


def _written(path: Path, content_type: str, size: int) -> dict[str, Any]:
    return {"output": str(path), "content_type": content_type, "size": size}


def write_answer(model: str, answer: Answer, out: BinaryIO, target: str | None,
                 accept: str | None) -> None:
    """A whole (not streamed) answer: JSON to ``out`` (and ``target``, named for the
    ``accept`` asked for), else to a file."""
    if answer.is_json:
        out.write(answer.body + b"\n")
        out.flush()
        if target:
            target = renamed(target, accept)
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_bytes(answer.body + b"\n")
            saved(target)
        return
    path = binary_target(model, answer.content_type, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(answer.body)
    saved(path)
    emit(out, _written(path, answer.content_type, len(answer.body)), None)


class StreamSink:
    """Writes a streamed answer's items as they come. The first item decides the kind of the
    stream (JSON values or bytes), as the server's does; use it as a context manager, so that
    the files are closed however the stream ends."""

    def __init__(self, out: BinaryIO, model: str, content_type: str,
                 target: str | None) -> None:
        self._out, self._model, self._target = out, model, target
        # bytes go as the module's declared media type, else as plain octets
        self._media = content_type if content_type not in JSON_TYPES else BINARY
        self._raw: bool | None = None
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._size = 0

    def __enter__(self) -> StreamSink:
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if self._file is not None:
            self._file.close()
        if error is not None and self._path is not None:
            LOG.warning("%s holds the %d bytes that came before the error", self._path,
                        self._size)

    def _open(self, path: Path) -> BinaryIO:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        return path.open("wb")

    def _begin(self, raw: bool) -> None:
        self._raw = raw
        if raw:
            self._file = self._open(binary_target(self._model, self._media, self._target))
        elif self._target:
            self._file = self._open(Path(renamed(self._target, NDJSON)))

    def put(self, chunk: Chunk) -> None:
        """Write one item (of the stream's kind: :class:`Kind` checked it) and flush it, so
        that a reader sees it now."""
        if self._raw is None:
            self._begin(chunk.raw)
        if chunk.raw:
            self._size += len(chunk.data)
            self._write(chunk.data)
            return
        line = chunk.data + b"\n"
        self._out.write(line)
        self._out.flush()
        if self._file is not None:
            self._write(line)

    def _write(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)
        self._file.flush()

    def finish(self) -> None:
        """The stream ended well: say where bytes went (an empty stream with an output file
        leaves that file empty)."""
        if self._raw is None and self._target:
            self._open(Path(renamed(self._target, NDJSON))).close()
        if self._path is not None:
            saved(self._path)
        if self._raw and self._path is not None:
            emit(self._out, _written(self._path, self._media, self._size), None)


def drain(model: ModelWrapper, answer: Answer, sink: StreamSink) -> None:
    """Iterate a synchronous generator here, on the calling thread (as a plain ``predict``
    runs: a module may use ``asyncio.run`` or signals inside it), writing each item."""
    items, kind = iter(answer.stream), Kind(model.name, model.stream_errors(answer))
    try:
        while (chunk := kind.step(items)) is not None:
            sink.put(chunk)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()  # the generator's own ``finally`` runs now, also after an error of ours
    sink.finish()


async def drain_async(model: ModelWrapper, answer: Answer, sink: StreamSink) -> None:
    """The same for an async generator, on the running event loop."""
    source: AsyncIterator[Any] = answer.stream
    kind = Kind(model.name, model.stream_errors(answer))
    try:
        while (chunk := await kind.astep(source)) is not None:
            sink.put(chunk)
    finally:
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()
    sink.finish()

"""Uploaded files travel to other machines as bytes and become files again there.

An :class:`UploadedFile` names a path on the server's disk, which a Ray node does not see.
:func:`pack` swaps each for a :class:`Parcel` holding its bytes; :func:`unpack`, on the node,
writes them into a folder and hands the module an ``UploadedFile`` as if it had been uploaded
there.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from deepaas.model.wrapper import UploadedFile
from deepaas.resources.request import Resources
from deepaas.workers.messages import Call

__all__ = ["Parcel", "SITE_LABEL", "asked_options", "pack", "pack_calls", "resources",
           "unpack", "unpack_calls"]

#: The Ray node label that names a node's site (``ray start --labels site=NAME``).
SITE_LABEL = "site"


@dataclasses.dataclass(frozen=True)
class Parcel:
    """An uploaded file's bytes and what the module should see of it."""

    name: str | None
    content_type: str | None
    original_filename: str | None
    data: bytes


def pack(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with every uploaded file replaced by a parcel of its bytes."""
    packed = dict(kwargs)
    for key, value in kwargs.items():
        if isinstance(value, UploadedFile):
            packed[key] = Parcel(value.name, value.content_type, value.original_filename,
                                 Path(value.filename).read_bytes())
    return packed


def unpack(kwargs: dict[str, Any], folder: str) -> dict[str, Any]:
    """``kwargs`` with every parcel written under ``folder`` and named by an UploadedFile."""
    unpacked = dict(kwargs)
    for key, value in kwargs.items():
        if isinstance(value, Parcel):
            path = os.path.join(folder, "%s-%s" % (key, Path(value.original_filename
                                                            or "upload").name))
            Path(path).write_bytes(value.data)
            unpacked[key] = UploadedFile(value.name, path, value.content_type,
                                         value.original_filename)
    return unpacked


def pack_calls(calls: list[Call]) -> list[Call]:
    """Prediction calls for a worker on another machine: their uploaded files as parcels."""
    return [dataclasses.replace(call, kwargs=pack(call.kwargs)) for call in calls]


def unpack_calls(calls: list[Call], folder: str) -> list[Call]:
    """The calls on that machine, their parcels written under ``folder``."""
    return [dataclasses.replace(call, kwargs=unpack(call.kwargs, folder)) for call in calls]


def resources(declared: Any, cpus: float, gpus: float, memory: int) -> dict[str, Any]:
    """Ray options for a worker: what the module's metadata declares (``"resources":
    {"cpus": 2, "gpus": 1, "memory": "4GiB"}``), else the server's defaults."""
    from deepaas.config import parse_size

    declared = declared if isinstance(declared, dict) else {}
    options: dict[str, Any] = {"num_cpus": float(declared.get("cpus", cpus)),
                               "num_gpus": float(declared.get("gpus", gpus))}
    size = parse_size(declared.get("memory", memory))
    if size:
        options["memory"] = size
    return options


def asked_options(asked: Resources, base: dict[str, Any]) -> dict[str, Any]:
    """Ray options for a training: what it asked for (``DEEPaaS-Resources``, the module's
    declaration, ``--train-resources``) over ``base`` (:func:`resources`); a site is a label
    the node must carry, so that Ray itself keeps the training there."""
    options = dict(base)
    if asked.cpus is not None:
        options["num_cpus"] = float(asked.cpus)
    if asked.gpus is not None:
        options["num_gpus"] = float(asked.gpus)
    if asked.memory is not None:
        options["memory"] = asked.memory
    if asked.site is not None:
        options["label_selector"] = {SITE_LABEL: asked.site}
    return options

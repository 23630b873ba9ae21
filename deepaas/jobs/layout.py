"""Where a training's files live: one folder per training under ``DATA_DIR/jobs``.

``DATA_DIR/jobs/UUID/`` holds ``record.json`` and ``metrics.jsonl`` (the record, see
:mod:`deepaas.jobs.folders`), ``log.txt`` (what the training printed), ``output/`` (what it
wrote for the server to list and serve) and, until it ends, ``uploads/`` (the files it was
given). This module is the one that knows these names.

Everything here blocks (files): the job manager calls it where a short wait is fine.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from deepaas.files import remove_files
from deepaas.model.wrapper import UploadedFile

__all__ = ["JobLayout", "JOBS", "RECORD", "METRICS"]

JOBS = "jobs"  # under the data dir
RECORD = "record.json"
METRICS = "metrics.jsonl"
_LOG = "log.txt"
_OUTPUT = "output"
_UPLOADS = "uploads"


class JobLayout:
    """The folders of trainings under ``root`` (``DATA_DIR/jobs``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def under(cls, data_dir: Path) -> JobLayout:
        """The layout of the trainings kept in ``data_dir``."""
        return cls(data_dir / JOBS)

    def folder(self, uuid: str) -> Path:
        return self.root / uuid

    def log(self, uuid: str) -> Path:
        return self.folder(uuid) / _LOG

    def output(self, uuid: str) -> Path:
        return self.folder(uuid) / _OUTPUT

    def uploads(self, uuid: str) -> Path:
        return self.folder(uuid) / _UPLOADS

    def record(self, uuid: str) -> Path:
        return self.folder(uuid) / RECORD

    def metrics(self, uuid: str) -> Path:
        return self.folder(uuid) / METRICS

    def records(self) -> Iterator[Path]:
        """Every record file there is, in no particular order."""
        return self.root.glob("*/" + RECORD)

    def make(self, uuid: str) -> None:
        """A new training's folder, with an empty log and an empty output folder."""
        self.folder(uuid).mkdir(parents=True, exist_ok=True)
        self.log(uuid).touch()
        self.output(uuid).mkdir()

    def adopt_uploads(self, uuid: str, kwargs: dict[str, Any],
                      files: Iterable[str]) -> dict[str, Any]:
        """Move uploaded files (of ``files``) into the training's folder, so that they live as
        long as it does; remove those of ``files`` no argument names. Answers the arguments
        with the files' new names."""
        adopted = dict(kwargs)
        for key, value in kwargs.items():
            if isinstance(value, UploadedFile) and value.filename in files:
                self.uploads(uuid).mkdir(exist_ok=True)
                target = self.uploads(uuid) / ("%s-%s" % (key, Path(value.filename).name))
                shutil.move(value.filename, target)
                adopted[key] = value._replace(filename=str(target))
        remove_files(set(files) - {str(v.filename) for v in kwargs.values()
                                   if isinstance(v, UploadedFile)})
        return adopted

    def remove_uploads(self, uuid: str) -> None:
        """The uploads go when the training ends; its log and outputs stay."""
        shutil.rmtree(self.uploads(uuid), ignore_errors=True)

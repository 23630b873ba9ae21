"""Where the trained model lives on disk, and a cache in memory that follows it.

Training runs in a process of its own while the server keeps answering predictions, so the two
only meet through files under ``deepaas.data_dir("models", "iris")``:

``model.pkl``
    the fitted pipeline *and* its metrics, pickled together, so a prediction never pairs a new
    model with the metrics of an old one.
``metrics.json``
    the same metrics, for people and scripts (``cat``, ``jq``).

Both are written to a temporary file in the same directory and renamed over the old one
(``os.replace`` is atomic on POSIX), so a reader sees either the old file or the new one,
never half of one. Readers notice a new model by its inode, mtime and size.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pickle
import tempfile
import threading
from typing import Any

import deepaas

__all__ = ["Trained", "ModelCache", "model_dir", "model_path", "metrics_path", "save"]

MODEL_FILE = "model.pkl"
METRICS_FILE = "metrics.json"


@dataclasses.dataclass(frozen=True)
class Trained:
    """A fitted model and the metrics of the training that made it."""

    model: Any  # a fitted scikit-learn Pipeline (scaler + classifier)
    metrics: dict[str, Any]


def model_dir() -> str:
    """The directory of the iris model; read from the environment at each call (tests move it)."""
    return deepaas.data_dir("models", "iris")


def model_path() -> str:
    return os.path.join(model_dir(), MODEL_FILE)


def metrics_path() -> str:
    return os.path.join(model_dir(), METRICS_FILE)


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old content or the new, whole."""
    directory, name = os.path.split(path)
    # Same directory as the target: os.replace cannot be atomic across file systems.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + name + ".", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the model from other readers
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save(trained: Trained) -> str:
    """Store a trained model (replacing the previous one) and return the model file's path."""
    os.makedirs(model_dir(), exist_ok=True)
    bundle = {"model": trained.model, "metrics": trained.metrics}
    _write_atomically(model_path(), pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL))
    # Written second: whoever sees these metrics will find their model already in place.
    _write_atomically(metrics_path(), (json.dumps(trained.metrics, indent=2) + "\n").encode())
    return model_path()


def _file_key(path: str, st: os.stat_result) -> tuple[Any, ...]:
    # os.replace gives every saved model a new inode; mtime and size guard against inode reuse.
    return (path, st.st_ino, st.st_mtime_ns, st.st_size)


def _load(path: str) -> tuple[Trained | None, tuple[Any, ...] | None]:
    """Read the model file; the key comes from the very file read, not from an earlier stat."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return None, None
    with handle:
        key = _file_key(path, os.fstat(handle.fileno()))
        try:
            # The data directory belongs to the server: only deepaas' own trainings write here.
            bundle = pickle.load(handle)
        except Exception as exc:
            raise RuntimeError("cannot read the trained iris model %s: %s" % (path, exc)) from exc
    return Trained(bundle["model"], bundle["metrics"]), key


class ModelCache:
    """The latest trained model, loaded once and reloaded when its file changes. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._trained: Trained | None = None

    def latest(self) -> Trained | None:
        """The model now on disk, or None before any training. Costs one ``stat`` when cached."""
        path = model_path()
        try:
            key: tuple[Any, ...] | None = _file_key(path, os.stat(path))
        except FileNotFoundError:
            key = None
        with self._lock:  # one thread loads; the others wait for it rather than load again
            if key != self._key:  # a new model, or the old one removed
                self._trained, self._key = _load(path)
            return self._trained

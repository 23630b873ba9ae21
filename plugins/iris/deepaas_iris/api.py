"""The iris module: a real, trainable DEEPaaS module in the usual module style.

The server finds it through the entry point in ``pyproject.toml``::

    [project.entry-points."deepaas.v2.model"]
    iris = "deepaas_iris.api"

``train`` fits a logistic-regression classifier (scikit-learn's ``SGDClassifier``) on the iris
flowers, epoch by epoch, reporting its progress to the server, and saves the model under
``deepaas.data_dir("models", "iris")``. ``predict`` answers with the latest model saved there:
the training runs in another process, so predict notices a new model file and reloads it, with
no restart. Before the first training, predict answers 409 Conflict saying what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from aiohttp import web
from webargs import fields, validate

from deepaas import progress
from deepaas_iris import __version__, store, training

__all__ = [
    "get_metadata",
    "warm",
    "get_predict_args",
    "predict",
    "get_train_args",
    "train",
]

LOG = logging.getLogger(__name__)

NOT_TRAINED = ("No trained iris model yet: POST /v2/models/iris/train/ first, then poll "
               "GET /v2/models/iris/train/UUID until its status is done.")

# (name, default, what it measures): defaults are the medians of the iris data set.
FEATURES = [
    ("sepal_length", 5.8, "Sepal length, in centimetres."),
    ("sepal_width", 3.0, "Sepal width, in centimetres."),
    ("petal_length", 4.35, "Petal length, in centimetres."),
    ("petal_width", 1.3, "Petal width, in centimetres."),
]

_DEFAULTS = training.HyperParameters()

# The model on disk, as last read by this process. A module global, as in every DEEPaaS module:
# warm() and predict() run in the same process and share it.
_CACHE = store.ModelCache()


# --- metadata ----------------------------------------------------------------------------------

def _model_info(trained: store.Trained) -> dict[str, Any]:
    """What predictions and metadata say about the model that answers."""
    metrics = trained.metrics
    return {"trained_at": metrics["trained_at"], "accuracy": metrics["accuracy"],
            "val_accuracy": metrics["val_accuracy"],
            "hyper_parameters": metrics["hyper_parameters"]}


def get_metadata() -> dict[str, Any]:
    """Describe the module, and say whether a trained model exists (with its accuracy)."""
    meta: dict[str, Any] = {
        "name": "iris",
        "description": "Classifies iris flowers (setosa, versicolor, virginica) from four "
                       "measurements. Train it first; predictions use the latest trained model.",
        "version": __version__,
        "author": "The deepaas authors",
        "license": "Apache-2.0",
        "url": "https://archive.ics.uci.edu/dataset/53/iris",
    }
    try:
        trained = _CACHE.latest()
    except RuntimeError as exc:  # a damaged model file must not break the model listing
        return {**meta, "trained": False, "model_error": str(exc)}
    if trained is None:
        return {**meta, "trained": False}
    return {**meta, "trained": True, **_model_info(trained)}


# --- warm-up -----------------------------------------------------------------------------------

def warm() -> None:
    """Load the latest trained model, if there is one, so the first prediction is quick."""
    try:
        trained = _CACHE.latest()
    except RuntimeError:
        # Start the server anyway: predict reports the problem, and a new training fixes it.
        LOG.warning("iris: the saved model could not be loaded", exc_info=True)
        return
    LOG.info("iris: %s", "model loaded" if trained else "no trained model yet")


# --- prediction --------------------------------------------------------------------------------

def get_predict_args() -> dict[str, Any]:
    """The four measurements of one flower, in centimetres."""
    return {
        name: fields.Float(load_default=default, validate=validate.Range(min=0.0, max=30.0),
                           metadata={"description": description})
        for name, default, description in FEATURES
    }


def predict(**kwargs: Any) -> dict[str, Any]:
    """The species of one flower, with the probability of each, from the latest model."""
    trained = _CACHE.latest()
    if trained is None:
        # 409: the request is fine, the module's state is not ready for it yet.
        raise web.HTTPConflict(reason=NOT_TRAINED)
    row = np.array([[kwargs[name] for name, _, _ in FEATURES]], dtype=float)
    probabilities = trained.model.predict_proba(row)[0]
    names = trained.metrics["classes"]
    by_name = {name: round(float(p), 6) for name, p in zip(names, probabilities, strict=True)}
    return {
        "label": names[int(np.argmax(probabilities))],
        "probabilities": by_name,
        "model": _model_info(trained),
    }


# --- training ----------------------------------------------------------------------------------

def get_train_args() -> dict[str, Any]:
    """The hyper-parameters; each has a default, so a bare ``POST .../train/`` works."""
    d = _DEFAULTS
    return {
        "epochs": fields.Int(
            load_default=d.epochs, validate=validate.Range(min=1, max=500),
            metadata={"description": "Passes over the training data."}),
        "learning_rate": fields.Float(
            load_default=d.learning_rate,
            validate=validate.Range(min=0.0, max=10.0, min_inclusive=False),
            metadata={"description": "Step size of stochastic gradient descent (constant)."}),
        "alpha": fields.Float(
            load_default=d.alpha, validate=validate.Range(min=0.0, max=1.0),
            metadata={"description": "Strength of the regularisation penalty."}),
        "penalty": fields.Str(
            load_default=d.penalty, validate=validate.OneOf(training.PENALTIES),
            metadata={"description": "Regularisation: l2, l1, elasticnet or none."}),
        "test_size": fields.Float(
            load_default=d.test_size, validate=validate.Range(min=0.1, max=0.5),
            metadata={"description": "Share of the flowers held out to measure val_accuracy."}),
        "seed": fields.Int(
            load_default=d.seed, validate=validate.Range(min=0, max=2**31 - 1),
            metadata={"description": "Random seed of the split and of the training order."}),
    }


def _on_epoch(total: int) -> Callable[[int, dict[str, float]], None]:
    def report(epoch: int, metrics: dict[str, float]) -> None:
        # Printed lines become the job's log; report() feeds the job's progress and metrics.
        print("epoch %d/%d " % (epoch, total)
              + " ".join("%s=%.4f" % item for item in metrics.items()), flush=True)
        progress.report(step=epoch, total=total, **metrics)
    return report


def train(**kwargs: Any) -> dict[str, Any]:
    """Fit the classifier, save it where predict finds it, and return its metrics.

    Runs in a process of its own; the returned dict is the training's ``result.output``.
    """
    params = training.HyperParameters.of(kwargs)
    trained = training.fit(params, _on_epoch(params.epochs))
    path = store.save(trained)
    print("saved %s (val_accuracy=%.4f)" % (path, trained.metrics["val_accuracy"]), flush=True)
    return {**trained.metrics, "model_path": path, "metrics_path": store.metrics_path()}

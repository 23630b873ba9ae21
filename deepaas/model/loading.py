"""Finding modules: entry points in the ``deepaas.v2.model`` group.

An entry point may resolve to a module (used as it is), a class (instantiated with no
arguments, as the DEEPaaS docs always promised) or an instance (used as it is).

Entry points are read from the installed distributions on every start (importlib.metadata),
not through stevedore's cache: that cache is keyed by file times, and pip keeps the time of a
rebuilt package's files, so a module whose author added an entry point and reinstalled stayed
"not installed" until the cache went stale.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import inspect
import logging
import traceback
from collections.abc import Sequence
from typing import Any

from deepaas.exceptions import ModelLoadError, NoModelsFound, summary_of
from deepaas.model.wrapper import ModelWrapper

__all__ = ["NAMESPACE", "Registry", "LoadFailure", "discover", "installed", "load_models",
           "not_installed", "resolve"]

LOG = logging.getLogger(__name__)
NAMESPACE = "deepaas.v2.model"

HOW_TO_DECLARE = (
    "No DEEPaaS model is installed. Declare one in your package's pyproject.toml:\n"
    '    [project.entry-points."deepaas.v2.model"]\n'
    '    my_model = "my_package.api"\n'
    "then install the package (pip install -e .) and run deepaas-run again."
)


@dataclasses.dataclass(frozen=True)
class LoadFailure:
    """A module whose entry point failed to import or build, with its traceback."""

    name: str
    source: str
    error: str
    traceback: str


@dataclasses.dataclass
class Registry:
    """The models this server serves, by name, in a stable order."""

    models: dict[str, ModelWrapper]
    failures: list[LoadFailure] = dataclasses.field(default_factory=list)

    def get(self, name: str) -> ModelWrapper | None:
        return self.models.get(name)

    def names(self) -> list[str]:
        return list(self.models)

    def secret_parameters(self) -> frozenset[str]:
        """The names clients send every model's secret arguments under (predict and train)."""
        return frozenset(name for m in self.models.values()
                         for name in m.predict_args.secret_client_names
                         | m.train_args.secret_client_names)

    @classmethod
    def of(cls, *models: ModelWrapper) -> Registry:
        return cls({m.name: m for m in models})


def instantiate(obj: Any) -> Any:
    """Classes are instantiated with no arguments; modules and instances are used as they are."""
    return obj() if inspect.isclass(obj) else obj


def resolve(source: str) -> Any:
    """Import ``pkg.module`` or ``pkg.module:attr.sub`` and instantiate a class."""
    module_name, _, attr = source.partition(":")
    obj: Any = importlib.import_module(module_name.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return instantiate(obj)


def installed() -> list[str]:
    """Names of every installed model, without importing any of them."""
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=NAMESPACE)})


def discover(names: Sequence[str] = ()) -> tuple[dict[str, tuple[str, Any]], list[LoadFailure]]:
    """Load the installed entry points (only ``names`` when given, so that an unwanted heavy
    module is never imported): ``{name: (source, loaded object)}`` and the failures."""
    failures: list[LoadFailure] = []
    found: dict[str, tuple[str, Any]] = {}
    wanted = set(names)
    for entry in importlib.metadata.entry_points(group=NAMESPACE):
        if (wanted and entry.name not in wanted) or entry.name in found:
            continue  # a name declared twice: the first distribution found keeps it
        try:
            found[entry.name] = (entry.value, entry.load())
        except Exception as exc:  # a broken module must not keep the others from serving
            failures.append(LoadFailure(
                name=entry.name, source=entry.value, error=summary_of(exc),
                traceback="".join(traceback.format_exception(exc))))
    return dict(sorted(found.items())), failures


def not_installed(missing: Sequence[str]) -> str:
    """Why a named model is not found, what is installed instead, and how to fix it."""
    names = ", ".join(repr(name) for name in missing)
    head = ("model %s is not installed" % names if len(missing) == 1
            else "models %s are not installed" % names)
    example = missing[0] if len(missing) == 1 else "my_model"
    return "\n".join([
        "%s: no entry point of that name in the %s entry-point group (models are chosen "
        "with --model-name or DEEPAAS_V2_MODEL)." % (head, NAMESPACE),
        "  Models installed: %s" % (", ".join(installed()) or "none"),
        "  A module is found through the entry point its package declares, e.g. in its "
        "pyproject.toml:",
        '      [project.entry-points."%s"]' % NAMESPACE,
        '      %s = "my_package.api"' % example,
        "  (Re)install the package that declares it after changing that declaration: run "
        "pip install -e . in the module's directory.",
    ])


def _build(name: str, source: str, plugin: Any) -> ModelWrapper:
    try:
        return ModelWrapper(name, instantiate(plugin), source)
    except ModelLoadError:
        raise  # it already says which model and what is wrong
    except Exception as exc:
        raise ModelLoadError("model %r (%s) could not be set up: %s"
                             % (name, source, summary_of(exc))) from exc


def load_models(names: Sequence[str] = ()) -> Registry:
    """Load the installed models, or only ``names``.

    A module that fails to load is logged with its traceback and skipped, unless it was named
    explicitly: then :class:`ModelLoadError` says why. No model at all is an error too.
    """
    wanted = list(dict.fromkeys(names)) or None
    known = set(installed())
    unknown = [n for n in wanted or () if n not in known]
    if unknown:  # said before importing anything
        raise ModelLoadError(not_installed(unknown))
    found, failures = discover(wanted or ())
    for failure in failures:
        if wanted and failure.name in wanted:
            raise ModelLoadError("model %r (%s) failed to load: %s\n%s"
                                 % (failure.name, failure.source, failure.error, failure.traceback))
        if not wanted:
            LOG.error("model %r (%s) failed to load and is not served:\n%s",
                      failure.name, failure.source, failure.traceback)
    if wanted:
        missing = [n for n in wanted if n not in found]
        if missing:
            raise ModelLoadError(not_installed(missing))
    selected = {n: found[n] for n in (wanted or found)}
    models: dict[str, ModelWrapper] = {}
    for name, (source, plugin) in selected.items():
        try:
            models[name] = _build(name, source, plugin)
        except ModelLoadError as exc:
            if wanted:
                raise
            LOG.error("%s", exc, exc_info=exc.__cause__)
            failures.append(LoadFailure(name, source, str(exc), traceback.format_exc()))
    if not models:
        if failures:
            raise NoModelsFound("no model could be loaded: %s"
                                % "; ".join("%s: %s" % (f.name, f.error) for f in failures))
        raise NoModelsFound(HOW_TO_DECLARE)
    return Registry(models, failures)

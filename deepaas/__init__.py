"""deepaas: serve machine-learning modules over the DEEPaaS v2 REST API.

A model author writes a module with ``get_metadata``, ``warm``, ``get_predict_args``,
``predict``, ``get_train_args`` and ``train`` (see :class:`deepaas.model.base.BaseModel`),
declares it under the ``deepaas.v2.model`` entry-point group and runs ``deepaas-run``.
"""

from importlib import metadata as _metadata

__all__ = ["__version__", "extract_version"]

try:
    __version__ = _metadata.version("deepaas")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "2.6.0+unknown"


def extract_version() -> str:
    """Return the installed version (kept for modules written against DEEPaaS 2.x)."""
    return __version__

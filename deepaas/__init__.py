"""deepaas: serve machine-learning modules over the DEEPaaS v2 REST API.

A model author writes a module with ``get_metadata``, ``warm``, ``get_predict_args``,
``predict``, ``get_train_args`` and ``train`` (see :class:`deepaas.model.base.BaseModel`),
declares it under the ``deepaas.v2.model`` entry-point group and runs ``deepaas-run``.
"""

import os as _os
from importlib import metadata as _metadata

__all__ = ["__version__", "extract_version", "data_dir", "ENV_DATA_DIR"]

#: Set by deepaas-run (``--data-dir``) for the server and its training processes.
ENV_DATA_DIR = "DEEPAAS_DATA_DIR"

try:
    __version__ = _metadata.version("deepaas")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "2.6.0+unknown"


def extract_version() -> str:
    """Return the installed version (kept for modules written against DEEPaaS 2.x)."""
    return __version__


def data_dir(*parts: str) -> str:
    """The server's data directory (``--data-dir``) joined with ``parts``.

    Modules keep what they train below it, e.g. ``deepaas.data_dir("models", "iris")``.
    Outside a server (``DEEPAAS_DATA_DIR`` unset) it is ``./deepaas-data``.
    """
    return _os.path.join(_os.environ.get(ENV_DATA_DIR) or "deepaas-data", *parts)

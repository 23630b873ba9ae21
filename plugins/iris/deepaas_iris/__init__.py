"""deepaas-iris: a real trainable DEEPaaS module, a scikit-learn classifier of iris flowers.

The module itself is :mod:`deepaas_iris.api`; the entry point in ``pyproject.toml`` points at it.
"""

__all__: list[str] = []
__version__ = "1.0.0"

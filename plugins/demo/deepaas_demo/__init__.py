"""deepaas-demo: an example DEEPaaS module that shows every part of the module contract.

The module itself is :mod:`deepaas_demo.api`; the entry point in ``pyproject.toml`` points at it.
"""

__all__: list[str] = []
__version__ = "1.0.0"

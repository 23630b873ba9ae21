"""The corpus fixtures served by name (``await client_of("demo_app")``), as tests/compat
serves them."""

from tests.compat.conftest import client_of

__all__ = ["client_of"]

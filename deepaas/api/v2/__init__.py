"""The v2 API resources' handlers, one module each (their routes: :mod:`deepaas.api.routes`)."""

__all__: list[str] = []

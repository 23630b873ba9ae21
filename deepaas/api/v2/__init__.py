"""The v2 API resources, one module each."""

__all__: list[str] = []

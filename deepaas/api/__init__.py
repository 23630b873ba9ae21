"""The HTTP edge: thin aiohttp handlers over ``deepaas.model`` and ``deepaas.jobs``."""

__all__: list[str] = []

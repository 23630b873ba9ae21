"""The model contract: loading modules, their arguments, calling them. No aiohttp in here."""

__all__: list[str] = []

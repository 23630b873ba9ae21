"""Training jobs: records, where they are stored, and the manager that runs them. No aiohttp."""

__all__: list[str] = []

"""How model code runs: in-process threads (this module) or, later, worker processes."""

__all__: list[str] = []

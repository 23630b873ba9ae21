"""Console scripts: argument parsing and process lifecycle only."""

__all__: list[str] = []

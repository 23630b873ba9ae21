"""A module that fails to import."""

raise ImportError("this fake module is broken on purpose")

"""What the benchmarks share: a fake module served without installing it, a free port."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

__all__ = ["free_port", "module_dir"]


def module_dir(root: Path, name: str, code: str) -> Path:
    """``root`` holding module ``name`` and an entry point for it: put it on PYTHONPATH and
    deepaas-run finds the model ``name`` (nothing is installed)."""
    root.mkdir()
    (root / ("%s.py" % name)).write_text(textwrap.dedent(code))
    info = root / ("%s-0.1.dist-info" % name)
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: 0.1\n" % name)
    (info / "entry_points.txt").write_text("[deepaas.v2.model]\n%s = %s\n" % (name, name))
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

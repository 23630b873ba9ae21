"""Processes the server starts die with it, even when it is killed with SIGKILL."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["ENV_SERVER_PID", "die_with_server"]

#: Set by the server for the processes it starts (trainings, prediction workers).
ENV_SERVER_PID = "DEEPAAS_SERVER_PID"


def die_with_server() -> None:
    """Ask Linux to SIGKILL this process when its parent, the server, dies.

    Elsewhere (or outside a server) this does nothing. The server's next start marks the
    interrupted jobs and kills what they had started.
    """
    server = os.environ.get(ENV_SERVER_PID)
    if not sys.platform.startswith("linux") or not server:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(server):  # the server died before prctl took effect
        os._exit(1)

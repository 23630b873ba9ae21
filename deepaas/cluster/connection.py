"""The server's one connection to Ray, shared by its training executor and predict workers."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from deepaas.exceptions import ConfigError

__all__ = ["RayConnection", "NAMESPACE"]

LOG = logging.getLogger(__name__)
NAMESPACE = "deepaas"


def _start_or_join(address: str) -> None:
    import ray

    options: dict[str, Any] = {"namespace": NAMESPACE, "log_to_driver": False,
                               "include_dashboard": False}
    if address:
        ray.init(address=address, **options)
        return
    try:
        ray.init(address="auto", **options)  # a local instance that is already running
    except ConnectionError:
        ray.init(**options)
        LOG.info("started a local Ray instance")


class RayConnection:
    """Joins the cluster at ``address`` (or a local instance, started if none runs) on first
    use and leaves it when the last user closes; a connection made before (a test, a notebook)
    is used and left alone."""

    def __init__(self, address: str = "") -> None:
        self._address = address
        self._users = 0
        self._owned = False

    async def open(self) -> None:
        self._users += 1
        if self._users > 1:
            return
        if not self._address:
            # A local instance on its own speaks over loopback, not the machine's public
            # address (Ray's switch for that carries this odd name).
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray
        except ImportError:
            raise ConfigError("Ray is not installed: pip install 'deepaas[ray]'") from None
        if ray.is_initialized():
            return
        try:
            await asyncio.to_thread(_start_or_join, self._address)
        except Exception as exc:
            raise ConfigError("cannot reach the Ray cluster %s: %s"
                              % (self._address or "(local)", exc)) from exc
        self._owned = True

    async def close(self) -> None:
        self._users -= 1
        if self._users == 0 and self._owned:
            import ray

            await asyncio.to_thread(ray.shutdown)
            self._owned = False

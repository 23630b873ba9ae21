"""The API keys a server accepts, and whether a request carries one.

Compared in constant time: every key is compared, so timing tells nothing about which one
matched, or how much of one.
"""

from __future__ import annotations

import hmac

from aiohttp import web

__all__ = ["ApiKeys"]


class ApiKeys:
    """The keys of ``--api-key`` and ``--api-keys-file`` (none: an open server)."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys

    def __bool__(self) -> bool:
        return bool(self.keys)

    def admits(self, request: web.BaseRequest) -> bool:
        """Whether ``request`` sends ``Authorization: Bearer KEY`` with one of the keys; on an
        open server every request does."""
        if not self.keys:
            return True
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and bool(given) and self._matches(given.strip())

    def _matches(self, given: str) -> bool:
        found = False
        for key in self.keys:
            found |= hmac.compare_digest(given.encode(), key.encode())
        return found

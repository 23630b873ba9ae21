"""Which URLs a client may name as its ``Webhook-URL``: ``--webhook-allow`` and
``--webhook-private``.

The patterns are those of ``--remote-data`` (:mod:`deepaas.storage.policy`), for http and https
only, and the address checks those of :mod:`deepaas.storage.addresses`: a client must not make
the server post to its own network (the loopback interface, a cloud metadata service, a
database on a private address) unless the operator allows private addresses.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Iterable

from deepaas.exceptions import ConfigError, WebhookRefused
from deepaas.storage import addresses
from deepaas.storage.policy import Policy, redact, split_url

__all__ = ["Destinations"]

_log = logging.getLogger(__name__)
_SCHEMES = ("http", "https")


class Destinations:
    """Checks a ``Webhook-URL`` when its job is submitted; raises ConfigError for a
    malformed pattern or one of a scheme other than http and https."""

    def __init__(self, patterns: Iterable[str], private: bool) -> None:
        patterns = tuple(patterns)
        for text in patterns:
            if text.partition("://")[0].lower() not in _SCHEMES:
                raise ConfigError("--webhook-allow: %r is not an http:// or https:// pattern"
                                  % text)
        try:
            self._policy = Policy(patterns)
        except ConfigError as exc:  # its message names --remote-data, whose syntax this is
            raise ConfigError("--webhook-allow:" + exc.message.partition(":")[2]) from None
        self._private = private

    @property
    def enabled(self) -> bool:
        return self._policy.enabled

    async def check(self, url: str) -> None:
        """Raise WebhookRefused, with a message fit for the client, unless the server may
        post to ``url``: webhooks are on, a pattern allows it and, without
        ``--webhook-private``, every address of its host is a public one."""
        if not self.enabled:
            raise WebhookRefused("webhooks are off on this server (no --webhook-allow): "
                                 "send no Webhook-URL, and poll the job instead")
        host, port = self._allowed(url)
        if not self._private:
            await asyncio.to_thread(_refuse_internal, url, host, port)

    async def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be posted to now, or None: a pending delivery is checked again
        before each attempt (after a restart too), since the operator may have narrowed
        ``--webhook-allow`` or dropped ``--webhook-private`` since it was accepted.

        A host whose name does not resolve now is no refusal: the attempt fails, and is
        retried, as when the receiver is down.
        """
        try:
            host, port = self._allowed(url)
            if not self._private:
                await asyncio.to_thread(_refuse_internal, url, host, port, True)
        except WebhookRefused as exc:
            return exc.message
        return None

    def _allowed(self, url: str) -> tuple[str, int]:
        """(host, port) of a URL the patterns allow."""
        parts = urllib.parse.urlsplit(url)
        shown = redact(url)
        if parts.username is not None or parts.password is not None:
            # Receivers check the signature; a password would sit in the job's files.
            raise WebhookRefused("Webhook-URL %s: credentials in URLs are not accepted"
                                 % shown)
        try:
            scheme, host, port, path = split_url(url)
            if scheme not in _SCHEMES:
                raise ValueError("not an http or https URL")
        except ValueError as exc:
            raise WebhookRefused("Webhook-URL %s: %s" % (shown, exc)) from None
        reason = self._policy.refusal(scheme, host, port, urllib.parse.unquote(path) or "/")
        if reason:
            raise WebhookRefused("Webhook-URL %s: %s (--webhook-allow)" % (shown, reason))
        return host, port


def _refuse_internal(url: str, host: str, port: int, unresolved_ok: bool = False) -> None:
    """Refuse a host with a non-public address; the message never says what a name resolves
    to (a client could map the internal network through its DNS), the log does. A name that
    does not resolve is refused too, unless ``unresolved_ok``. Blocking."""
    shown = redact(url)
    if addresses.is_literal(host):
        kind = addresses.address_problem(host)
        if kind is not None:
            raise WebhookRefused("Webhook-URL %s: %s is a %s address, and this server does not "
                                 "post to internal addresses (--webhook-private)"
                                 % (shown, host, kind))
        return
    try:
        found = [address for _, address in addresses.lookup(host, port)]
    except OSError as exc:
        if unresolved_ok:
            return
        raise WebhookRefused("Webhook-URL %s: host %s could not be resolved (%s)"
                             % (shown, host, exc.strerror or exc)) from None
    for address in found:
        kind = addresses.address_problem(address)
        if kind is not None:
            _log.warning("webhooks: %s resolves to a %s address (%s): refused", host, kind,
                         address)
            raise WebhookRefused("Webhook-URL %s: the address of host %s is not allowed: this "
                                 "server does not post to internal addresses" % (shown, host))

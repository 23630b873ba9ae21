"""Signatures of webhook deliveries, as the Standard Webhooks convention writes them.

A receiver recomputes ``base64(HMAC-SHA256(key, f"{webhook-id}.{webhook-timestamp}.{body}"))``
with the same key and compares it with the ``v1,`` value of the ``webhook-signature`` header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from deepaas.exceptions import ConfigError

__all__ = ["SECRET_PREFIX", "secret_key", "sign"]

#: A secret written as Standard Webhooks libraries generate it: this prefix, then base64.
SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``--webhook-secret`` stands for.

    ``whsec_`` followed by base64 is the key those bytes decode to (what the Standard Webhooks
    libraries of receivers expect); any other text is its UTF-8 bytes. Raises ConfigError for
    a ``whsec_`` secret whose rest is not base64, at start rather than at the first delivery.
    """
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode("utf-8")
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("--webhook-secret: the part after whsec_ is not base64") from None


def sign(key: bytes, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value: ``v1,`` and the base64 HMAC-SHA256 of
    ``"{message_id}.{timestamp}.{body}"``."""
    signed = ("%s.%d.%s" % (message_id, timestamp, body)).encode("utf-8")
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")

"""Webhooks: a job's record POSTed, signed, to the URL its client named when the job ends.

No aiohttp server code in here: the HTTP edge reads the ``Webhook-URL`` header and calls
:class:`Webhooks`; the wiring (``deepaas.api.app``) builds it and connects it to the job
managers.
"""

from deepaas.webhooks.service import Lookup, WebhookOptions, Webhooks
from deepaas.webhooks.signing import secret_key, sign

__all__ = ["Webhooks", "WebhookOptions", "Lookup", "secret_key", "sign"]

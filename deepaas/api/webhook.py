"""The ``Webhook-URL`` request header: where a job's record goes when it ends."""

from __future__ import annotations

from aiohttp import web

from deepaas.api.headers import single_header
from deepaas.api.keys import WEBHOOKS

__all__ = ["HEADER", "webhook_url"]

HEADER = "Webhook-URL"


async def webhook_url(request: web.Request) -> str | None:
    """The request's ``Webhook-URL``, checked; None when it names none.

    Raises :class:`~deepaas.exceptions.WebhookRefused` (422) for a URL the server will not
    post to: call it before reading the body, so that a refused job leaves nothing behind.
    """
    url = single_header(request, HEADER).strip()
    if not url:
        return None
    await request.app[WEBHOOKS].check(url)
    return url

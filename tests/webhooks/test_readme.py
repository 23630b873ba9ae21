"""The README's way for a receiver to check a signature works on what the server sends."""

from __future__ import annotations

import re
import uuid as uuids
from pathlib import Path
from typing import Any

import pytest

from deepaas.webhooks import WebhookOptions, Webhooks
from tests.webhooks.receiver import start_receiver

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_verify() -> Any:
    text = README.read_text()
    start = text.index("## Webhooks")
    section = text[start:text.index("\n## ", start + 1)]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the README's own code, as a reader would paste it
    return namespace["verify"]


@pytest.mark.parametrize("secret", ["whsec_c2VjcmV0IGJ5dGVzIGZvciB0aGUgdGVzdHM=", "plain text"])
async def test_the_readme_verifies_a_delivery(aiohttp_server: Any, tmp_path: Path,
                                              secret: str) -> None:
    verify = _readme_verify()
    receiver = await start_receiver(aiohttp_server)
    hooks = Webhooks(WebhookOptions(patterns=("http://127.0.0.1:*",), private=True,
                                    secret=secret), tmp_path)
    await hooks.start()
    try:
        uuid = uuids.uuid4().hex
        await hooks.arm(uuid, receiver.url)
        await hooks.ended(uuid, {"uuid": uuid, "status": "done", "name": "naïve"})
        got = await receiver.next()
    finally:
        await hooks.close()
    assert verify(secret, got.headers, got.body)
    assert not verify(secret, got.headers, got.body + b" ")

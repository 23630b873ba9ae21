"""The one check the fuzzing test runs (loaded by schemathesis through SCHEMATHESIS_HOOKS).

schemathesis's own ``not_a_server_error`` flags every 5xx, but a module may answer 500 to
nonsense it was given; that is the module's business, and our message says so ("Error in model
'demo' predict: ..."). Every other 5xx is ours and fails the run.
"""

from __future__ import annotations

from typing import Any

import schemathesis

MODEL_ERROR_PREFIX = "Error in model '"


def _message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else ""


@schemathesis.check
def no_framework_5xx(ctx: Any, response: Any, case: Any) -> None:
    """Fail on a 5xx unless its JSON message says the model raised it."""
    if response.status_code >= 500 and not _message(response).startswith(MODEL_ERROR_PREFIX):
        body = response.content[:500].decode(errors="replace")  # it may not even be text
        raise AssertionError("deepaas answered %d: %s" % (response.status_code, body))

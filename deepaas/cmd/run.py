"""``deepaas-run``: load the installed modules and serve them."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TextIO

from deepaas.api.access import AccessLog
from deepaas.api.app import create_app
from deepaas.cmd.serve import serve
from deepaas.config import Settings, load_settings
from deepaas.debug import DebugCapture
from deepaas.exceptions import DeepaasError
from deepaas.logs import JsonFormatter
from deepaas.model.loading import Registry, load_models

__all__ = ["main", "banner"]

LOG = logging.getLogger("deepaas.run")


def setup_logging(settings: Settings) -> AccessLog:
    """Logs to stderr (and ``--log-file``); the access log writes there too, in batches."""
    level = logging.DEBUG if settings.debug else getattr(logging, settings.log_level)
    streams: list[TextIO] = [sys.stderr]
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if settings.log_file:
        handler = logging.FileHandler(settings.log_file)
        handlers.append(handler)
        assert handler.stream is not None  # opened at once (delay=False)
        streams.append(handler.stream)
    logging.basicConfig(level=level, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.log_format == "json":
        for each in handlers:
            each.setFormatter(JsonFormatter())
    return AccessLog(streams, enabled=level <= logging.INFO,
                     as_json=settings.log_format == "json")


def banner(settings: Settings, registry: Registry) -> str:
    """What a user needs to start: where the docs, the spec and the API are."""
    root = "http://%s:%d%s" % (settings.listen_ip, settings.listen_port, settings.base_path)
    lines = ["deepaas is serving %s" % ", ".join(registry.names()),
             "  Dashboard:      %s/dashboard/" % root]
    if settings.doc_endpoint:
        lines.append("  Swagger UI:     %s/api" % root)
    lines += ["  Specification:  %s/swagger.json (OpenAPI 3: %s/openapi.json)" % (root, root),
              "  V2 API:         %s/v2/" % root]
    return "\n".join(lines)


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed, else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGINT or SIGTERM; exit non-zero when it cannot start."""
    try:
        settings = load_settings(argv)
        access = setup_logging(settings)
        capture = DebugCapture() if settings.debug_endpoint else None
        if capture is not None:
            capture.start()
        registry = load_models(settings.model_name)
        app = create_app(settings, registry, debug_capture=capture)
    except DeepaasError as exc:
        print("deepaas-run: %s" % exc, file=sys.stderr)
        return exc.exit_code
    text = banner(settings, registry)
    try:
        return serve(app, settings, access, _new_loop(), lambda: print(text, flush=True))
    except DeepaasError as exc:  # at start-up: the job store or the cluster is out of reach
        print("deepaas-run: %s" % exc, file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())

"""``deepaas-run``: load the installed modules and serve them (or, with ``--import-jobs``,
write the records of the job folders into the job store)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import sys
from collections.abc import Sequence
from typing import TextIO

from deepaas.api.access import AccessLog, not_a_parse_error
from deepaas.api.app import create_app, job_store
from deepaas.cmd.serve import leave_stuck_threads, serve
from deepaas.config import Settings, load_settings
from deepaas.datadir import DataDirLock, http_address
from deepaas.debug import DebugCapture
from deepaas.exceptions import CannotListen, DeepaasError, summary_of
from deepaas.jobs.indexed import Reconciled
from deepaas.logs import JsonFormatter
from deepaas.model.loading import Registry, load_models

__all__ = ["main", "banner", "check_address", "console", "import_jobs"]

LOG = logging.getLogger("deepaas.run")
_IMPORT_HINT = "stop it first: it writes into the same job store"


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
    # a request aiohttp cannot parse is one (rate-limited) access line, not a traceback each
    logging.getLogger("aiohttp.server").addFilter(not_a_parse_error)
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
    if registry.failures:
        lines.append("  Failed to load: %s (see the log above)"
                     % ", ".join(dict.fromkeys(f.name for f in registry.failures)))
    return "\n".join(lines)


def _where(settings: Settings) -> str:
    return http_address(settings.listen_ip, settings.listen_port).removeprefix("http://")


def _listen_error(settings: Settings, exc: OSError) -> CannotListen:
    if exc.errno == errno.EADDRINUSE:
        return CannotListen("address %s is in use" % _where(settings))
    reason = exc.strerror or str(exc)
    return CannotListen("cannot listen on %s: %s" % (_where(settings), reason))


def check_address(settings: Settings) -> None:
    """Bind the listening address once, as the server will, before the slow start-up: a
    port in use is one clear line at once rather than a traceback after loading the models."""
    if settings.listen_port == 0:
        return
    try:
        found = socket.getaddrinfo(settings.listen_ip or None, settings.listen_port,
                                   type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise _listen_error(settings, exc) from None
    for family, kind, proto, _, address in found:
        with socket.socket(family, kind, proto) as sock:
            # as asyncio's create_server does, so that both agree on what is free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise _listen_error(settings, exc) from None


def import_jobs(settings: Settings) -> int:
    """``deepaas-run --import-jobs``: write the records kept in the job folders into the job
    store (a database that was lost, or a new one), then exit. Records it holds already stay
    as they are, unless their folder shows a later state of an unfinished training. Refused
    while a server holds the data folder: that server writes into the same store."""

    async def run() -> tuple[str, Reconciled]:
        store = job_store(settings)
        await store.open()
        try:
            return str(store.folders.root), store.reconciled or await store.reconcile()
        finally:
            await store.close()

    with DataDirLock(settings.data_dir, "--import-jobs", hint=_IMPORT_HINT):
        where, found = asyncio.run(run())
    print("deepaas-run: %d training records in %s: %d imported into the job store, %d brought "
          "up to date there, %d there already" % (found.folders, where, found.missing,
                                                  found.behind, found.folders - found.written))
    return 0


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed, else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _refused(exc: DeepaasError) -> int:
    print("deepaas-run: %s" % exc, file=sys.stderr)
    return exc.exit_code


def _crashed(exc: Exception) -> int:
    """An error no one foresaw (a bug, a file start-up could not read): one line and exit 1,
    never a traceback left hanging over a process that neither serves nor exits; ``--debug``
    logs where it came from."""
    LOG.debug("the unexpected error", exc_info=exc)
    text = " ".join(summary_of(exc).split())  # one line, whatever the message holds
    print("deepaas-run: stopped by an unexpected error: %s" % text, file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGINT or SIGTERM; exit non-zero when it cannot start."""
    with contextlib.ExitStack() as held:
        try:
            settings = load_settings(argv)
            if settings.import_jobs:
                setup_logging(settings)
                return import_jobs(settings)
            check_address(settings)
            access = setup_logging(settings)
            # Before the models load: a folder another server holds is refused at once.
            folder = held.enter_context(DataDirLock(
                settings.data_dir, http_address(settings.listen_ip, settings.listen_port)))
            capture = DebugCapture() if settings.debug_endpoint else None
            if capture is not None:
                capture.start()
            registry = load_models(settings.model_name)
            access.hide(registry.secret_parameters())
            app = create_app(settings, registry, debug_capture=capture, data_dir_lock=folder)
        except DeepaasError as exc:
            return _refused(exc)
        except Exception as exc:
            return _crashed(exc)
        text = banner(settings, registry)

        def ready(port: int) -> None:
            folder.update(http_address(settings.listen_ip, port))
            print(text, flush=True)

        try:
            return serve(app, settings, access, _new_loop(), ready)
        except DeepaasError as exc:  # at start-up: the job store or the cluster is out of reach
            return _refused(exc)
        except OSError as exc:  # the address was taken after check_address
            if not isinstance(exc, socket.gaierror) and exc.errno not in (
                    errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
                return _crashed(exc)
            print("deepaas-run: %s" % _listen_error(settings, exc), file=sys.stderr)
            return 1
        except Exception as exc:
            return _crashed(exc)


def console() -> None:
    """The ``deepaas-run`` command: :func:`main`, then exit, even if a module's thread is
    stuck (``main`` itself returns, so that it can run inside another program)."""
    code = main()
    leave_stuck_threads(code)
    sys.exit(code)


if __name__ == "__main__":
    console()

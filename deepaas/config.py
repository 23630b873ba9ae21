"""One frozen Settings object, built once: defaults < config file < DEEPAAS_* env < flags.

Every option is declared once, as a field of :class:`Settings` whose metadata holds the rest
of it (how to read it, its help); ``OPTIONS`` is read from those fields, and the command line,
the environment variables, the config file and ``etc/deepaas.conf.sample`` are all derived
from it, so they cannot drift apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from deepaas import __version__
from deepaas.config_files import read_config_file
from deepaas.converters import (
    SIZE_UNITS,
    Choice,
    api_key_list,
    auth_entries,
    base_path,
    between,
    job_store,
    names,
    parse_bool,
    parse_size,
)
from deepaas.exceptions import ConfigError
from deepaas.resources.request import checked_text

__all__ = ["Settings", "Option", "OPTIONS", "api_keys", "load_settings", "build_parser",
           "parse_bool", "parse_size", "shown_default"]


@dataclasses.dataclass(frozen=True)
class Option:
    """One setting: its flag, how to read a string of it, and its help."""

    name: str
    convert: Callable[[Any], Any]
    help: str
    short: str = ""
    repeat: bool = False
    secret: bool = False  # holds passwords: never echoed in errors (nor in repr(Settings))
    metavar: str = ""  # the placeholder in --help, when _metavar() cannot tell a good one
    also_env: str = ""  # an older environment variable, read beneath the option's own

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "DEEPAAS_" + self.name.upper()

    @property
    def is_bool(self) -> bool:
        return self.convert is parse_bool


_OPTION = "deepaas.option"  # the key of an option in its field's metadata


def _option(default: Any, convert: Callable[[Any], Any], help: str, **how: Any) -> Any:
    """A field of Settings that is an option, read as ``convert`` reads it (``how``: the
    rest of :class:`Option`); its name is the field's."""
    spec = Option("", convert, help, **how)
    return dataclasses.field(default=default, repr=not spec.secret, metadata={_OPTION: spec})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the server and the CLI read from configuration, in the order of --help."""

    listen_ip: str = _option("127.0.0.1", str, "Address to listen on.")
    listen_port: int = _option(5000, between(int, 0, 65535), "TCP port to listen on.")
    base_path: str = _option("", base_path, "Prefix for every route and link (e.g. /deepaas).")
    model_name: tuple[str, ...] = _option(
        (), names, "Serve only this model (repeatable; default: every installed model). "
        "DEEPAAS_V2_MODEL is read too.", repeat=True, also_env="DEEPAAS_V2_MODEL")
    workers: int = _option(
        1, between(int, 1), "Predictions of one model running at once: threads of the server, "
        "or worker processes with --isolate.", short="-p")
    isolate: bool = _option(
        False, parse_bool, "Run predictions in worker processes (each warmed); a crashing "
        "module costs one request and its worker is replaced.")
    max_queue: int = _option(
        128, between(int, 1), "Predictions of one model that may wait; more are answered 503 "
        "with Retry-After.")
    predict_timeout: float = _option(
        0.0, between(float, 0), "Seconds a prediction may take before it is answered 504 (0: "
        "no limit); with --isolate its worker is replaced.")
    max_batch_size: int = _option(
        32, between(int, 1), "Requests gathered into one predict_batch() call, for modules "
        "that have one and set no max_batch_size.")
    max_batch_delay_ms: float = _option(
        5.0, between(float, 0), "How long a batch waits for more requests after the first, "
        "for modules that set no max_batch_delay_ms.")
    warm: bool = _option(
        True, parse_bool, "Call each module's warm() before it predicts (the server listens "
        "meanwhile; /v2/health/ready answers 503 until it is done).")
    train_endpoint: bool = _option(
        True, parse_bool, "Serve training (false: the routes answer 402).")
    predict_endpoint: bool = _option(
        True, parse_bool, "Serve predictions (false: the routes answer 402).")
    debug_endpoint: bool = _option(
        False, parse_bool, "Serve captured stdout, stderr and logs at /v2/debug/.")
    doc_endpoint: bool = _option(True, parse_bool, "Serve the Swagger UI at /api.")
    metrics: bool = _option(
        True, parse_bool, "Serve Prometheus metrics at /metrics (and count requests).")
    client_max_size: int = _option(
        100 * 2**20, parse_size, "Largest request body, uploads included (bytes, or e.g. "
        "100MiB; 0: no limit); larger ones are answered 413.")
    max_json_size: int = _option(
        16 * 2**20, parse_size, "Largest JSON or urlencoded body (or form fields of a "
        "multipart one), which is read into memory (bytes, or e.g. 16MiB; 0: only "
        "--client-max-size); larger ones are answered 413. Files stream to disk.")
    max_buffered: int = _option(
        256 * 2**20, parse_size, "Request data read into memory at once, all requests "
        "together (bytes, or e.g. 256MiB; 0: no bound); a request that would pass it is "
        "answered 503 with Retry-After.")
    cancel_grace: float = _option(
        5.0, between(float, 0), "Seconds a cancelled training, and what a training leaves "
        "running when it ends, get between SIGTERM and SIGKILL.")
    training_cgroups: bool = _option(
        True, parse_bool, "Put each training's processes in a cgroup v2 of their own where the "
        "machine allows it, so that none escapes its end; otherwise (or false) they are found "
        "by the job id in their environment.")
    shutdown_timeout: float = _option(
        30.0, between(float, 0), "Seconds requests in flight get to finish when the server is "
        "asked to stop; those still running then are answered 503 and the server exits.")
    data_dir: str = _option(
        "deepaas-data", str, "Where training records, logs and models' files are kept "
        "(relative paths start at the working directory); one server per folder: another "
        "server started on it is refused.")
    max_trainings: int = _option(
        0, between(int, 0), "Trainings running at once on this server (0: no server-wide "
        "bound); more wait in line.")
    train_resources: str = _option(
        "", checked_text, "What a training gets when neither its request (the "
        "DEEPaaS-Resources header) nor its module's metadata says: e.g. 'cpus=1, "
        "memory=4GiB' (default: nothing is constrained, as in DEEPaaS 2.x).",
        metavar="RESOURCES")
    site: str = _option(
        "", str, "The name of the site this server's machine is at (what a training's "
        "site=NAME must match); on Ray, a node's site is its label site=NAME (ray start --labels).",
        metavar="NAME")
    trainings_per_model: int = _option(
        1, between(int, 0), "Trainings of one model running at once on this server (0: no "
        "bound, e.g. sweeps on Ray); more wait in line.")
    max_waiting_trainings: int = _option(
        64, between(int, 0), "Trainings that may wait in line on this server (0: no bound); "
        "more are answered 503 with Retry-After.")
    tmp_dir: str = _option(
        "", str, "Where uploaded files are kept while a request or training uses them "
        "(default: the system temp dir).")
    job_store: str = _option(
        "", job_store, "Where training records live: empty for SQLite in the data dir, or "
        "postgresql://USER:PASSWORD@HOST:PORT/DB, shared by several servers.", secret=True,
        metavar="URL")
    replica_timeout: float = _option(
        15.0, between(float, 1), "With a shared job store: seconds without a heartbeat after "
        "which a server is taken for gone and its trainings end as errors.")
    executor: str = _option(
        "local", Choice("local", "ray"), "Where trainings run: local processes, or ray (tasks "
        "on a Ray cluster; pip install deepaas[ray]).")
    predict_executor: str = _option(
        "local", Choice("local", "ray"), "Where predictions run: local (threads, or processes "
        "with --isolate), or ray (--workers warmed Ray actors).")
    ray_address: str = _option(
        "", str, "The Ray cluster to join (e.g. ray://head:10001 or head:6379); default: join "
        "a running local instance or start one.")
    ray_cpus: float = _option(
        1.0, between(float, 0), "CPUs a training or predict worker asks of Ray, for modules "
        "whose metadata names no resources.")
    ray_gpus: float = _option(
        0.0, between(float, 0), "GPUs a training or predict worker asks of Ray, for modules "
        "whose metadata names no resources.")
    ray_memory: int = _option(
        0, parse_size, "Memory a training or predict worker asks of Ray (bytes, or e.g. 4GiB; "
        "0: none), for modules whose metadata names no resources.")
    remote_data: tuple[str, ...] = _option(
        (), names, "Let clients give a file argument as a URL of these schemes and hosts "
        "(repeatable; e.g. https://*.example.org, webdavs://cloud.example.org; '*' patterns). "
        "Default: none, remote data is off.", repeat=True, metavar="PATTERN")
    remote_private: bool = _option(
        False, parse_bool, "Let --remote-data reach loopback, link-local and private addresses "
        "(off: clients cannot make the server probe internal services).")
    remote_max_size: int = _option(
        2**30, parse_size, "Largest remote file fetched for a file argument (bytes, or e.g. "
        "2GiB); larger ones are answered 413.")
    remote_timeout: float = _option(
        300.0, between(float, 1), "Seconds one remote file may take to fetch (then 504).")
    cache_dir: str = _option(
        "", str, "Where fetched remote files are cached (default: DATA_DIR/cache).")
    cache_max_size: int = _option(
        10 * 2**30, parse_size, "Size the cache of remote files may reach before the least "
        "recently used are removed (bytes, or e.g. 10GiB).")
    storage_auth: tuple[str, ...] = _option(
        (), auth_entries, "Credentials for storage hosts, HOST=USER:PASSWORD (repeatable; "
        "better in the config file or DEEPAAS_STORAGE_AUTH, space-separated). Never taken "
        "from requests, never logged.", repeat=True, secret=True,
        metavar="HOST=USER:PASSWORD")
    output_storage: str = _option(
        "", str, "Upload what each training writes to its output dir into this folder when it "
        "ends (webdav://, webdavs://, or a Nextcloud WebDAV URL); default: keep the files in "
        "the data dir, downloadable through the API.", metavar="URL")
    keep_predictions: float = _option(
        7.0, between(float, 0), "Days the records and results of asynchronous predictions "
        "(Prefer: respond-async) are kept after they end (0: forever).", metavar="DAYS")
    webhook_allow: tuple[str, ...] = _option(
        (), names, "Let clients name a Webhook-URL of these schemes and hosts (repeatable; "
        "the --remote-data pattern syntax, e.g. https://hooks.example.org). Default: none, "
        "webhooks are off.", repeat=True, metavar="PATTERN")
    webhook_private: bool = _option(
        False, parse_bool, "Let webhooks reach loopback, link-local and private addresses.")
    webhook_secret: str = _option(
        "", str, "Sign webhook deliveries with this secret (Standard Webhooks: whsec_ and "
        "base64, or any other text used as UTF-8 bytes).", secret=True, metavar="SECRET")
    api_key: tuple[str, ...] = _option(
        (), api_key_list, "Require 'Authorization: Bearer KEY' for predict, train and debug "
        "(repeatable; DEEPAAS_API_KEYS takes a comma-separated list).", repeat=True,
        secret=True, metavar="KEY", also_env="DEEPAAS_API_KEYS")
    api_keys_file: str = _option(
        "", str, "A file of API keys, one per line ('#' starts a comment).")
    protect_all: bool = _option(
        False, parse_bool, "With API keys, protect every route (metadata, spec, docs and "
        "health too).")
    cors_origin: tuple[str, ...] = _option(
        (), names, "Allow browsers on this origin to call the API (repeatable; '*' for any). "
        "Default: no CORS.", repeat=True, metavar="ORIGIN")
    debug: bool = _option(
        False, parse_bool, "Debug mode: verbose logs and tracebacks in error answers.")
    log_level: str = _option(
        "INFO", Choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), "The least severe "
        "messages logged (--debug: DEBUG).")
    log_file: str = _option("", str, "Also write logs to this file.")
    log_format: str = _option(
        "text", Choice("text", "json"), "text, or json: one JSON object per line (access log "
        "included), for log collectors.")
    # Commands rather than options: how this configuration was read, and what to do.
    config_file: str = ""
    import_jobs: bool = False  # deepaas-run --import-jobs


OPTIONS: tuple[Option, ...] = tuple(
    dataclasses.replace(f.metadata[_OPTION], name=f.name)
    for f in dataclasses.fields(Settings) if _OPTION in f.metadata)
_BY_NAME = {opt.name: opt for opt in OPTIONS}


# The placeholder of an option in --help, by the last word of its name.
_METAVARS = {"ip": "ADDRESS", "address": "ADDRESS", "port": "PORT", "path": "PATH",
             "dir": "DIR", "file": "FILE", "timeout": "SECONDS", "grace": "SECONDS", "ms": "MS",
             "name": "NAME"}


def _metavar(opt: Option) -> str:
    """What --help shows as the value of ``opt``: declared, or told by its kind or its name."""
    if opt.metavar:
        return opt.metavar
    if opt.is_bool:
        return "BOOL"
    if isinstance(opt.convert, Choice):
        return "{%s}" % ",".join(opt.convert.allowed)
    if opt.convert is parse_size:
        return "BYTES"
    word = opt.name.rsplit("_", 1)[-1]
    if word in _METAVARS:
        return _METAVARS[word]
    return {int: "N", float: "NUMBER"}.get(type(getattr(Settings(), opt.name)), "VALUE")


def shown_default(opt: Option, default: Any) -> str:
    """A default as a config file (and --help) spells it."""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, tuple):
        return ", ".join(default)
    if opt.convert is parse_size and default:
        for unit in ("TiB", "GiB", "MiB", "KiB"):
            if default % SIZE_UNITS[unit.lower()] == 0:
                return "%d%s" % (default // SIZE_UNITS[unit.lower()], unit)
    return str(default)


def build_parser(prog: str = "deepaas-run") -> argparse.ArgumentParser:
    """The command-line parser; every default is None so that given flags can be told apart
    (the help shows the real defaults, from :class:`Settings`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve DEEPaaS v2 modules over HTTP.",
        argument_default=None,
    )
    # the bare version, as DEEPaaS 2.x printed it: scripts (AI4OS's OSCAR one) parse it
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--config-file", metavar="FILE", help="INI or TOML file with these "
                        "options, in a [deepaas] section (env DEEPAAS_CONFIG_FILE).")
    parser.add_argument("--import-jobs", action="store_true", default=None, help="Copy the "
                        "training records kept in DATA_DIR/jobs/*/record.json into the job "
                        "store (a new or restored database), then exit.")
    for opt in OPTIONS:
        _add_option(parser, opt)
    return parser


def _help(opt: Option) -> str:
    shown = shown_default(opt, getattr(Settings(), opt.name))
    tail = "env %s; default: %s" % (opt.env, shown) if shown else "env %s" % opt.env
    return ("%s (%s)" % (opt.help, tail)).replace("%", "%%")  # argparse formats help with %


def _add_option(parser: argparse.ArgumentParser, opt: Option) -> None:
    flags = [opt.flag] + ([opt.short] if opt.short else [])
    dest, metavar = opt.name, _metavar(opt)
    if opt.is_bool:
        # Both DEEPaaS 2.x spellings work: --warm / --nowarm and --warm false.
        parser.add_argument(*flags, dest=dest, nargs="?", const="true", metavar=metavar,
                            help=_help(opt))
        parser.add_argument("--no" + opt.flag[2:], dest=dest, action="store_const",
                            const="false", help="Same as %s false." % opt.flag)
    elif opt.repeat:
        parser.add_argument(*flags, dest=dest, action="append", metavar=metavar,
                            help=_help(opt))
    else:
        parser.add_argument(*flags, dest=dest, metavar=metavar, help=_help(opt))


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for opt in OPTIONS:
        for env in (opt.also_env, opt.env):  # the option's own name wins
            if env and environ.get(env, "") != "":
                found[opt.name] = environ[env]
    return found


def _shortened(text: str, most: int = 80) -> str:
    """``text``, or its start and its length: an error stays one readable line when the
    value is 5,000 digits."""
    return text if len(text) <= most else "%s... (%d characters)" % (text[:most], len(text))


def _convert(raw: dict[str, Any], origin: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in raw.items():
        opt = _BY_NAME.get(name)
        if opt is None:
            raise ConfigError("%s: unknown option %r" % (origin, name))
        try:
            values[name] = opt.convert(value)
        except (TypeError, ValueError) as exc:
            shown = "(hidden)" if opt.secret else _shortened(repr(value))
            raise ConfigError("%s: invalid value %s for %s: %s"
                              % (origin, shown, opt.flag, exc)) from None
    return values


def load_settings(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    prog: str = "deepaas-run",
) -> Settings:
    """Build the Settings once: defaults, then the config file, the environment, the flags."""
    environ = os.environ if environ is None else environ
    args = build_parser(prog).parse_args(argv)
    commands = ("config_file", "import_jobs")
    flags = {k: v for k, v in vars(args).items() if v is not None and k not in commands}
    config_file = args.config_file or environ.get("DEEPAAS_CONFIG_FILE", "")
    values: dict[str, Any] = {}
    if config_file:
        values.update(_convert(read_config_file(config_file), config_file))
    values.update(_convert(_from_env(environ), "environment"))
    values.update(_convert(flags, "command line"))
    return Settings(config_file=config_file, import_jobs=bool(args.import_jobs), **values)


def api_keys(settings: Settings) -> tuple[str, ...]:
    """Every API key the server accepts: ``--api-key`` values and the keys file's lines."""
    keys = list(settings.api_key)
    if settings.api_keys_file:
        try:
            text = Path(settings.api_keys_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError("cannot read the API keys file: %s" % exc) from None
        found = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        if not any(found):  # keys were asked for: none would leave the server open
            raise ConfigError("the API keys file %s holds no key" % settings.api_keys_file)
        keys += found
    return tuple(k for k in dict.fromkeys(keys) if k)


"""One frozen Settings object, built once: defaults < config file < DEEPAAS_* env < flags.

Every option is declared once in ``OPTIONS``; the command line, the environment variables, the
config file and ``etc/deepaas.conf.sample`` are all derived from that table, so they cannot
drift apart.
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

__all__ = ["Settings", "Option", "OPTIONS", "api_keys", "load_settings", "build_parser",
           "parse_bool", "parse_size"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the server and the CLI read from configuration."""

    listen_ip: str = "127.0.0.1"
    listen_port: int = 5000
    base_path: str = ""
    model_name: tuple[str, ...] = ()
    workers: int = 1
    isolate: bool = False
    max_queue: int = 128
    predict_timeout: float = 0.0
    max_batch_size: int = 32
    max_batch_delay_ms: float = 5.0
    warm: bool = True
    train_endpoint: bool = True
    predict_endpoint: bool = True
    debug_endpoint: bool = False
    metrics: bool = True
    doc_endpoint: bool = True
    client_max_size: int = 100 * 1024 * 1024
    max_json_size: int = 16 * 1024 * 1024
    max_buffered: int = 256 * 1024 * 1024
    cancel_grace: float = 5.0
    training_cgroups: bool = True
    shutdown_timeout: float = 30.0
    data_dir: str = "deepaas-data"
    max_trainings: int = 0
    trainings_per_model: int = 1
    max_waiting_trainings: int = 64
    tmp_dir: str = ""
    job_store: str = dataclasses.field(default="", repr=False)  # may hold a password
    replica_timeout: float = 15.0
    executor: str = "local"
    predict_executor: str = "local"
    ray_address: str = ""
    ray_cpus: float = 1.0
    ray_gpus: float = 0.0
    ray_memory: int = 0
    remote_data: tuple[str, ...] = ()
    remote_private: bool = False
    remote_max_size: int = 2**30
    remote_timeout: float = 300.0
    cache_dir: str = ""
    cache_max_size: int = 10 * 2**30
    storage_auth: tuple[str, ...] = dataclasses.field(default=(), repr=False)  # passwords
    output_storage: str = ""
    api_key: tuple[str, ...] = ()
    api_keys_file: str = ""
    protect_all: bool = False
    cors_origin: tuple[str, ...] = ()
    debug: bool = False
    log_level: str = "INFO"
    log_file: str = ""
    log_format: str = "text"
    config_file: str = ""
    import_jobs: bool = False  # a command (deepaas-run --import-jobs), never an option



@dataclasses.dataclass(frozen=True)
class Option:
    """One setting: its flag, how to read a string of it, and its help."""

    name: str
    convert: Callable[[Any], Any]
    help: str
    short: str = ""
    repeat: bool = False
    secret: bool = False  # holds passwords: never echoed in errors
    metavar: str = ""  # the placeholder in --help, when _metavar() cannot tell a good one

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "DEEPAAS_" + self.name.upper()

    @property
    def is_bool(self) -> bool:
        return self.convert is parse_bool


OPTIONS: tuple[Option, ...] = (
    Option("listen_ip", str, "Address to listen on."),
    Option("listen_port", between(int, 0, 65535), "TCP port to listen on."),
    Option("base_path", base_path, "Prefix for every route and link (e.g. /deepaas)."),
    Option("model_name", names, "Serve only this model (repeatable; default: every installed "
           "model). DEEPAAS_V2_MODEL is read too.", repeat=True),
    Option("workers", between(int, 1), "Predictions of one model running at once: threads "
           "of the server, or worker processes with --isolate.", short="-p"),
    Option("isolate", parse_bool, "Run predictions in worker processes (each warmed); a "
           "crashing module costs one request and its worker is replaced."),
    Option("max_queue", between(int, 1), "Predictions of one model that may wait; more are "
           "answered 503 with Retry-After."),
    Option("predict_timeout", between(float, 0), "Seconds a prediction may take before it "
           "is answered 504 (0: no limit); with --isolate its worker is replaced."),
    Option("max_batch_size", between(int, 1), "Requests gathered into one predict_batch() "
           "call, for modules that have one and set no max_batch_size."),
    Option("max_batch_delay_ms", between(float, 0), "How long a batch waits for more "
           "requests after the first, for modules that set no max_batch_delay_ms."),
    Option("warm", parse_bool, "Call each module's warm() before it predicts (the server "
           "listens meanwhile; /v2/health/ready answers 503 until it is done)."),
    Option("train_endpoint", parse_bool, "Serve training (false: the routes answer 402)."),
    Option("predict_endpoint", parse_bool, "Serve predictions (false: the routes answer 402)."),
    Option("debug_endpoint", parse_bool, "Serve captured stdout, stderr and logs at /v2/debug/."),
    Option("doc_endpoint", parse_bool, "Serve the Swagger UI at /api."),
    Option("metrics", parse_bool, "Serve Prometheus metrics at /metrics (and count requests)."),
    Option("client_max_size", parse_size, "Largest request body, uploads included (bytes, or "
           "e.g. 100MiB; 0: no limit); larger ones are answered 413."),
    Option("max_json_size", parse_size, "Largest JSON or urlencoded body (or form fields of a "
           "multipart one), which is read into memory (bytes, or e.g. 16MiB; 0: only "
           "--client-max-size); larger ones are answered 413. Files stream to disk."),
    Option("max_buffered", parse_size, "Request data read into memory at once, all requests "
           "together (bytes, or e.g. 256MiB; 0: no bound); a request that would pass it is "
           "answered 503 with Retry-After."),
    Option("cancel_grace", between(float, 0), "Seconds a cancelled training, and what a "
           "training leaves running when it ends, get between SIGTERM and SIGKILL."),
    Option("training_cgroups", parse_bool, "Put each training's processes in a cgroup v2 of "
           "their own where the machine allows it, so that none escapes its end; otherwise "
           "(or false) they are found by the job id in their environment."),
    Option("shutdown_timeout", between(float, 0), "Seconds requests in flight get to finish "
           "when the server is asked to stop; those still running then are answered 503 and "
           "the server exits."),
    Option("data_dir", str, "Where training records, logs and models' files are kept "
           "(relative paths start at the working directory)."),
    Option("max_trainings", between(int, 0), "Trainings running at once on this server "
           "(0: no server-wide bound); more wait in line."),
    Option("trainings_per_model", between(int, 0), "Trainings of one model running at once "
           "on this server (0: no bound, e.g. sweeps on Ray); more wait in line."),
    Option("max_waiting_trainings", between(int, 0), "Trainings that may wait in line on this "
           "server (0: no bound); more are answered 503 with Retry-After."),
    Option("tmp_dir", str, "Where uploaded files are kept while a request or training uses "
           "them (default: the system temp dir)."),
    Option("job_store", job_store, "Where training records live: empty for SQLite in the "
           "data dir, or postgresql://USER:PASSWORD@HOST:PORT/DB, shared by several servers.",
           secret=True, metavar="URL"),
    Option("replica_timeout", between(float, 1), "With a shared job store: seconds without a "
           "heartbeat after which a server is taken for gone and its trainings end as errors."),
    Option("executor", Choice("local", "ray"), "Where trainings run: local processes, or "
           "ray (tasks on a Ray cluster; pip install deepaas[ray])."),
    Option("predict_executor", Choice("local", "ray"), "Where predictions run: local (threads,"
           " or processes with --isolate), or ray (--workers warmed Ray actors)."),
    Option("ray_address", str, "The Ray cluster to join (e.g. ray://head:10001 or head:6379); "
           "default: join a running local instance or start one."),
    Option("ray_cpus", between(float, 0), "CPUs a training or predict worker asks of Ray, for"
           " modules whose metadata names no resources."),
    Option("ray_gpus", between(float, 0), "GPUs a training or predict worker asks of Ray, for"
           " modules whose metadata names no resources."),
    Option("ray_memory", parse_size, "Memory a training or predict worker asks of Ray (bytes, or "
           "e.g. 4GiB; 0: none), for modules whose metadata names no resources."),
    Option("remote_data", names, "Let clients give a file argument as a URL of these schemes "
           "and hosts (repeatable; e.g. https://*.example.org, webdavs://cloud.example.org; "
           "'*' patterns). Default: none, remote data is off.", repeat=True,
           metavar="PATTERN"),
    Option("remote_private", parse_bool, "Let --remote-data reach loopback, link-local and "
           "private addresses (off: clients cannot make the server probe internal services)."),
    Option("remote_max_size", parse_size, "Largest remote file fetched for a file argument "
           "(bytes, or e.g. 2GiB); larger ones are answered 413."),
    Option("remote_timeout", between(float, 1), "Seconds one remote file may take to fetch "
           "(then 504)."),
    Option("cache_dir", str, "Where fetched remote files are cached (default: DATA_DIR/cache)."),
    Option("cache_max_size", parse_size, "Size the cache of remote files may reach before the "
           "least recently used are removed (bytes, or e.g. 10GiB)."),
    Option("storage_auth", auth_entries, "Credentials for storage hosts, HOST=USER:PASSWORD "
           "(repeatable; better in the config file or DEEPAAS_STORAGE_AUTH, space-separated). "
           "Never taken from requests, never logged.", repeat=True, secret=True,
           metavar="HOST=USER:PASSWORD"),
    Option("output_storage", str, "Upload what each training writes to its output dir into "
           "this folder when it ends (webdav://, webdavs://, or a Nextcloud WebDAV URL); "
           "default: keep the files in the data dir, downloadable through the API.",
           metavar="URL"),
    Option("api_key", api_key_list, "Require 'Authorization: Bearer KEY' for predict, train "
           "and debug (repeatable; DEEPAAS_API_KEYS takes a comma-separated list).",
           repeat=True, secret=True, metavar="KEY"),
    Option("api_keys_file", str, "A file of API keys, one per line ('#' starts a comment)."),
    Option("protect_all", parse_bool, "With API keys, protect every route (metadata, spec, "
           "docs and health too)."),
    Option("cors_origin", names, "Allow browsers on this origin to call the API (repeatable; "
           "'*' for any). Default: no CORS.", repeat=True, metavar="ORIGIN"),
    Option("debug", parse_bool, "Debug mode: verbose logs and tracebacks in error answers."),
    Option("log_level", Choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
           "The least severe messages logged (--debug: DEBUG)."),
    Option("log_file", str, "Also write logs to this file."),
    Option("log_format", Choice("text", "json"), "text, or json: one JSON object per line "
           "(access log included), for log collectors."),
)
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


def _shown(opt: Option, default: Any) -> str:
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
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    parser.add_argument("--config-file", metavar="FILE", help="INI or TOML file with these "
                        "options, in a [deepaas] section (env DEEPAAS_CONFIG_FILE).")
    parser.add_argument("--import-jobs", action="store_true", default=None, help="Copy the "
                        "training records kept in DATA_DIR/jobs/*/record.json into the job "
                        "store (a new or restored database), then exit.")
    for opt in OPTIONS:
        _add_option(parser, opt)
    return parser


def _help(opt: Option) -> str:
    shown = _shown(opt, getattr(Settings(), opt.name))
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
    if environ.get("DEEPAAS_V2_MODEL"):
        found["model_name"] = environ["DEEPAAS_V2_MODEL"]
    if environ.get("DEEPAAS_API_KEYS"):
        found["api_key"] = environ["DEEPAAS_API_KEYS"]
    for opt in OPTIONS:
        if environ.get(opt.env, "") != "":
            found[opt.name] = environ[opt.env]
    return found


def _convert(raw: dict[str, Any], origin: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in raw.items():
        opt = _BY_NAME.get(name)
        if opt is None:
            raise ConfigError("%s: unknown option %r" % (origin, name))
        try:
            values[name] = opt.convert(value)
        except (TypeError, ValueError) as exc:
            shown = "(hidden)" if opt.secret else repr(value)
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


def sample_config() -> str:
    """The text of ``etc/deepaas.conf.sample``: every option, its help and its default."""
    defaults = Settings()
    lines = [
        "# deepaas configuration. Pass it with --config-file FILE (or DEEPAAS_CONFIG_FILE).",
        "# Precedence: defaults < this file < DEEPAAS_* environment variables < flags.",
        "# Option names may be written with - or _; a TOML file takes the same keys in a",
        "# [deepaas] table. Any other section is an error. Uncomment and edit what you need.",
        "",
        "[deepaas]",
    ]
    for opt in OPTIONS:
        shown = _shown(opt, getattr(defaults, opt.name))
        lines += ["", "# %s" % opt.help, "# Flag %s, environment %s." % (opt.flag, opt.env),
                  ("#%s = %s" % (opt.name, shown)).rstrip()]
    return "\n".join(lines) + "\n"


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


if __name__ == "__main__":  # python -m deepaas.config > etc/deepaas.conf.sample
    print(sample_config(), end="")

"""Reading a config file: INI or TOML, options in the [deepaas] section only.

An INI file's ``[DEFAULT]`` section and a TOML file's keys outside any table are read too
(beneath ``[deepaas]``); any other section is an error, so that a misspelt section name never
leaves its options silently unread.
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path
from typing import Any

from deepaas.exceptions import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["read_config_file"]


def _unknown_section(path: str, section: str) -> ConfigError:
    return ConfigError("%s: unknown section [%s]: deepaas reads its options from the "
                       "[deepaas] section only" % (path, section))


def _read_toml(path: str, text: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc)) from exc
    merged = {k: v for k, v in data.items() if k != "deepaas"}  # keys before any table
    for key, value in merged.items():
        if isinstance(value, dict):
            raise _unknown_section(path, key)
    section = data.get("deepaas", {})
    if not isinstance(section, dict):
        raise ConfigError("%s: deepaas must be a table: [deepaas]" % path)
    merged.update(section)
    return merged


def _read_ini(path: str, file: Path) -> dict[str, Any]:
    parser = configparser.ConfigParser()
    try:
        parser.read(file)
    except configparser.Error as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc)) from exc
    for section in parser.sections():
        if section != "deepaas":
            raise _unknown_section(path, section)
    merged = dict(parser.defaults())
    if parser.has_section("deepaas"):
        merged.update(parser.items("deepaas"))
    return merged


def read_config_file(path: str) -> dict[str, Any]:
    """The options of an INI or TOML file: its [deepaas] section ([DEFAULT] and TOML keys
    outside any table too); any other section is an error."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError("config file not found: %s" % path)
    found = _read_toml(path, file.read_text()) if file.suffix == ".toml" else _read_ini(path, file)
    return {str(k).replace("-", "_"): v for k, v in found.items()}

"""What a user reads in deepaas-run --help, and which config file sections are read."""

from __future__ import annotations

import pytest

from deepaas.config import OPTIONS, build_parser, load_settings
from deepaas.exceptions import ConfigError


def _help() -> str:
    return " ".join(build_parser().format_help().split())


@pytest.mark.parametrize("shown", [
    "--listen-port PORT", "--listen-ip ADDRESS", "--model-name NAME", "--config-file FILE",
    "--client-max-size BYTES", "--data-dir DIR", "--cancel-grace SECONDS", "--workers N",
    "--executor {local,ray}", "--ray-cpus NUMBER", "--warm [BOOL]", "--nowarm", "--nometrics"])
def test_help_shows_meaningful_placeholders(shown):
    assert shown in _help()


def test_help_shows_every_default():
    text = _help()
    assert "(env DEEPAAS_LISTEN_PORT; default: 5000)" in text
    assert "(env DEEPAAS_LISTEN_IP; default: 127.0.0.1)" in text
    assert "(env DEEPAAS_WARM; default: true)" in text
    assert "(env DEEPAAS_CLIENT_MAX_SIZE; default: 100MiB)" in text
    for opt in OPTIONS:
        assert opt.flag in text and opt.env in text


def test_every_option_gets_a_placeholder_of_its_own_kind():
    usage = build_parser().format_usage()
    assert "VALUE" not in usage  # the generic fallback: each option should say more


@pytest.mark.parametrize("flag, name", [("--nowarm", "warm"), ("--nometrics", "metrics"),
                                        ("--nodoc-endpoint", "doc_endpoint")])
def test_negative_forms_work(flag, name):
    assert getattr(load_settings([flag], {}), name) is False


def test_sizes_take_units():
    assert load_settings(["--client-max-size", "1MiB"], {}).client_max_size == 2**20


@pytest.mark.parametrize("name, text", [
    ("deepaas.conf", "[deepaas]\nworkers = 2\n[server]\nlisten_port = 6000\n"),
    ("deepaas.ini", "[DEFAULT]\nworkers = 2\n[Deepaas]\nlisten_port = 6000\n"),
    ("deepaas.toml", "[deepaas]\nworkers = 2\n[server]\nlisten_port = 6000\n"),
    ("deepaas.toml", "workers = 2\n[logging]\nlevel = 'DEBUG'\n"),
])
def test_a_section_other_than_deepaas_is_an_error(tmp_path, name, text):
    conf = tmp_path / name
    conf.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(["--config-file", str(conf)], {})
    section = text.split("\n[", 1)[1].split("]", 1)[0]
    assert str(caught.value) == ("%s: unknown section [%s]: deepaas reads its options from "
                                 "the [deepaas] section only" % (conf, section))
    assert caught.value.exit_code == 2  # as every config error


@pytest.mark.parametrize("name, text", [
    ("deepaas.conf", "[DEFAULT]\nworkers = 2\n[deepaas]\nlisten_port = 6000\n"),
    ("deepaas.toml", "workers = 2\n[deepaas]\nlisten_port = 6000\n"),
])
def test_deepaas_and_default_sections_are_read(tmp_path, name, text):
    conf = tmp_path / name
    conf.write_text(text)
    settings = load_settings(["--config-file", str(conf)], {})
    assert (settings.workers, settings.listen_port) == (2, 6000)

"""Settings: defaults < config file < DEEPAAS_* environment < flags."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from deepaas.config import OPTIONS, Settings, api_keys, load_settings
from deepaas.config_sample import sample_config
from deepaas.exceptions import ConfigError


def test_defaults():
    settings = load_settings([], {})
    assert settings == Settings()
    assert (settings.listen_ip, settings.listen_port, settings.workers) == ("127.0.0.1", 5000, 1)
    assert settings.warm and settings.predict_endpoint and not settings.debug_endpoint


def test_precedence_file_env_flags(tmp_path):
    conf = tmp_path / "deepaas.conf"
    conf.write_text("[DEFAULT]\nlisten_port = 6000\nworkers = 3\nwarm = false\n"
                    "base-path = api\n")
    env = {"DEEPAAS_WORKERS": "4", "DEEPAAS_LISTEN_IP": "0.0.0.0"}
    settings = load_settings(["--config-file", str(conf), "-p", "5"], env)
    assert settings.listen_port == 6000  # file
    assert settings.listen_ip == "0.0.0.0"  # env over default
    assert settings.workers == 5  # flag over env over file
    assert settings.warm is False and settings.base_path == "/api"


def test_toml_config_file(tmp_path):
    conf = tmp_path / "deepaas.toml"
    conf.write_text('[deepaas]\nlisten-port = 7000\nmodel-name = ["a", "b"]\ndebug = true\n')
    settings = load_settings(["--config-file", str(conf)], {})
    assert settings.listen_port == 7000 and settings.model_name == ("a", "b") and settings.debug


@pytest.mark.parametrize("argv, expected", [
    (["--nowarm"], False), (["--warm"], True), (["--warm", "false"], False),
    (["--warm", "no"], False), (["--warm=1"], True),
])
def test_boolean_spellings(argv, expected):
    assert load_settings(argv, {}).warm is expected


def test_model_names_repeat_and_env():
    assert load_settings(["--model-name", "a", "--model-name", "b"], {}).model_name == ("a", "b")
    assert load_settings([], {"DEEPAAS_V2_MODEL": "x"}).model_name == ("x",)
    assert load_settings(["--model-name", "y"], {"DEEPAAS_V2_MODEL": "x"}).model_name == ("y",)


@pytest.mark.parametrize("argv, env", [
    (["--listen-port", "99999"], {}), (["--workers", "0"], {}), ([], {"DEEPAAS_WARM": "maybe"}),
    (["--log-level", "LOUD"], {}), (["--config-file", "/nonexistent.conf"], {}),
])
def test_invalid_values_are_config_errors(argv, env):
    with pytest.raises(ConfigError):
        load_settings(argv, env)


def test_unknown_option_in_file(tmp_path):
    conf = tmp_path / "x.conf"
    conf.write_text("[deepaas]\nlisten_prot = 1\n")
    with pytest.raises(ConfigError, match="listen_prot"):
        load_settings(["--config-file", str(conf)], {})


def test_sample_config_documents_every_option_and_is_current():
    sample = (Path(__file__).parents[1] / "etc" / "deepaas.conf.sample").read_text()
    # regenerate with: python -m deepaas.config_sample > etc/deepaas.conf.sample
    assert sample == sample_config()
    for opt in OPTIONS:
        assert "\n#%s =" % opt.name in sample, opt.name


def test_sample_config_loads_as_is(tmp_path):
    conf = tmp_path / "deepaas.conf"
    uncommented = [line[1:] if line.startswith("#") and " = " in line else line
                   for line in sample_config().splitlines()]
    conf.write_text("\n".join(uncommented))
    assert load_settings(["--config-file", str(conf)], {}) == Settings(config_file=str(conf))


@pytest.mark.parametrize("argv, environ", [
    (["--api-key", ""], {}),
    (["--api-key", "k1", "--api-key", " "], {}),
    ([], {"DEEPAAS_API_KEYS": " , "}),
    ([], {"DEEPAAS_API_KEYS": "k1,,k2"}),
    ([], {"DEEPAAS_API_KEY": " "}),
])
def test_an_empty_api_key_is_refused(argv, environ):
    with pytest.raises(ConfigError) as caught:
        load_settings(argv, environ)
    assert str(caught.value).endswith("invalid value (hidden) for --api-key: an API key may "
                                      "not be empty (to run without keys, leave the option out)")
    assert load_settings(["--api-key", "k1, k2"], {}).api_key == ("k1", "k2")
    assert load_settings([], {"DEEPAAS_API_KEYS": "k1,k2 k3"}).api_key == ("k1", "k2", "k3")


def test_an_api_keys_file_without_a_key_is_refused(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# the keys go here\n\n")
    with pytest.raises(ConfigError, match="the API keys file .* holds no key"):
        api_keys(load_settings(["--api-keys-file", str(keys)], {}))


def test_every_option_is_a_field_of_the_settings_declared_once():
    fields = [f.name for f in dataclasses.fields(Settings)]
    assert [opt.name for opt in OPTIONS] == [f for f in fields
                                             if f not in ("config_file", "import_jobs")]
    assert load_settings([], {"DEEPAAS_V2_MODEL": "old"}).model_name == ("old",)


def test_secret_options_stay_out_of_the_settings_repr():
    settings = Settings(api_key=("k-e-y",), job_store="postgresql://u:pw@h/db",
                        storage_auth=("h=u:pw",))
    assert "k-e-y" not in repr(settings) and "pw" not in repr(settings)
    assert "listen_port=5000" in repr(settings)

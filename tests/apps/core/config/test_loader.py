"""Layering (defaults < TOML < .env < environment), types, modes and the errors that stop startup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.core.config import ConfigurationError, config_load


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_lite_defaults_need_no_configuration_and_generate_private_secrets(environ: dict[str, str]) -> None:
    config = config_load(environ)

    assert config.mode == "lite"
    assert config["database.url"].startswith("sqlite:///")
    assert config["broker.url"] == "filesystem://"
    secret_file = config.home / "secrets" / "django_secret_key"
    assert secret_file.read_text() == config["secret_key"]
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"


def test_generated_lite_secrets_are_stable_across_loads(environ: dict[str, str]) -> None:
    assert config_load(environ)["jwt.secret"] == config_load(environ)["jwt.secret"]


def test_each_layer_overrides_the_one_below(environ: dict[str, str], tmp_path: Path) -> None:
    toml = write(tmp_path / "legion.toml", '[web]\nport = 9001\nhost = "0.0.0.0"\n[api]\npage_size = 10\n')
    dotenv = write(tmp_path / ".env", "LEGION_WEB_PORT=9002\nLEGION_API_PAGE_SIZE=20\n")
    environ |= {"LEGION_SETTINGS_FILE": str(toml), "LEGION_ENV_FILE": str(dotenv), "LEGION_WEB_PORT": "9003"}

    config = config_load(environ)

    assert config["web.port"] == 9003
    assert config["api.page_size"] == 20
    assert config["web.host"] == "0.0.0.0"
    assert config.sources["web.host"].startswith(f"settings file {toml}")
    assert config.sources["api.page_size"].startswith(str(dotenv))
    assert config.sources["web.port"] == "environment, variable LEGION_WEB_PORT"


def test_well_known_variable_names_are_accepted(full_environ: dict[str, str]) -> None:
    config = config_load(full_environ)
    assert config["database.url"] == "postgres://db/legion"
    assert config.sources["database.url"] == "environment, variable DATABASE_URL"


def test_strings_are_coerced_to_the_setting_type(environ: dict[str, str]) -> None:
    environ |= {"LEGION_DEBUG": "yes", "LEGION_ALLOWED_HOSTS": "a.example, b.example"}
    config = config_load(environ)
    assert config["debug"] is True
    assert config["allowed_hosts"] == ["a.example", "b.example"]


def test_full_mode_without_a_required_setting_names_it(full_environ: dict[str, str]) -> None:
    del full_environ["BROKER_URL"]
    with pytest.raises(ConfigurationError, match=r"'broker\.url' is required in full mode.*BROKER_URL"):
        config_load(full_environ)


def test_full_mode_has_no_generated_secrets(full_environ: dict[str, str]) -> None:
    del full_environ["SECRET_KEY"]
    with pytest.raises(ConfigurationError, match="'secret_key' is required in full mode"):
        config_load(full_environ)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[web]\nport = \n", "not valid TOML"),
        ("[web]\nprot = 80\n", "unknown setting 'web.prot'"),
        ('[web]\nport = "eighty"\n', "'web.port': expected an integer"),
        ('mode = "medium"\n', "'mode': expected one of lite, full"),
        ('[database]\nurl = "vault://secret"\n', "'database.url': malformed reference"),
    ],
)
def test_a_bad_settings_file_fails_naming_file_key_and_problem(
    environ: dict[str, str], tmp_path: Path, text: str, problem: str
) -> None:
    toml = write(tmp_path / "legion.toml", text)
    environ["LEGION_SETTINGS_FILE"] = str(toml)
    with pytest.raises(ConfigurationError) as raised:
        config_load(environ)
    assert str(toml) in str(raised.value)
    assert problem in str(raised.value)


def test_a_bad_environment_value_names_the_variable(environ: dict[str, str]) -> None:
    environ["LEGION_WEB_PORT"] = "eighty"
    with pytest.raises(ConfigurationError, match="variable LEGION_WEB_PORT: setting 'web.port': expected an integer"):
        config_load(environ)


def test_a_missing_settings_file_is_an_error(environ: dict[str, str], tmp_path: Path) -> None:
    environ["LEGION_SETTINGS_FILE"] = str(tmp_path / "absent.toml")
    with pytest.raises(ConfigurationError, match="absent.toml .* does not exist"):
        config_load(environ)


def test_describe_masks_secrets(full_environ: dict[str, str]) -> None:
    rows = {key: shown for key, shown, _ in config_load(full_environ).describe()}
    assert rows["secret_key"] == "(set)"
    assert rows["database.url"] == "(set)"
    assert rows["web.port"] == "8000"


def test_describe_masks_credentials_nested_in_settings_not_marked_secret(environ: dict[str, str]) -> None:
    environ["LEGION_PROXY_PROVIDERS"] = json.dumps([{
        "name": "corp", "kind": "openai_compatible", "base_url": "https://llm.example/v1", "api_key": "sk-literal-1",
        "headers": {"Authorization": "Bearer hdr-secret-2", "x-api-key": "hdr-secret-3", "X-Team": "blue"},
        "models": [{"id": "m", "max_output": 64}],
    }])
    environ["LEGION_CHAINS_LLM_URL"] = "https://bot:url-secret-4@proxy.example/v1"

    shown = "\n".join(shown for _, shown, _ in config_load(environ).describe())

    for secret in ("sk-literal-1", "hdr-secret-2", "hdr-secret-3", "url-secret-4"):
        assert secret not in shown
    assert '"X-Team": "blue"' in shown and '"max_output": 64' in shown and "bot:(set)@proxy.example" in shown

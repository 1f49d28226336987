"""Secret references in settings: env://, file://, vault:// (KV v2 over HTTP) and fallback chains."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.core.config import ConfigurationError, config_load
from apps.core.config.secrets import Reference, SecretReferenceError, reference_parse
from tests.fakes.vault import FakeVault


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("env://DB_PASSWORD", Reference("env", "DB_PASSWORD")),
        ("file:///run/secrets/db", Reference("file", "/run/secrets/db")),
        ("vault://secret/legion/db#password", Reference("vault", "secret/legion/db", "password")),
        ("amqp://guest:guest@localhost//", None),
        ("plain value", None),
    ],
)
def test_references_are_recognised_by_scheme(text: str, expected: Reference | None) -> None:
    assert reference_parse(text) == expected


@pytest.mark.parametrize(
    "text", ["env://", "env://9LIVES", "file://relative/path", "vault://secret#key", "vault://secret/db", "vault://a//b#k"]
)
def test_malformed_references_are_rejected(text: str) -> None:
    with pytest.raises(SecretReferenceError):
        reference_parse(text)


def test_env_reference_resolves_from_the_process_environment(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEGION_TEST_SECRET_HOST", "db.internal")
    environ["LEGION_WEB_HOST"] = "env://LEGION_TEST_SECRET_HOST"
    assert config_load(environ)["web.host"] == "db.internal"


def test_file_reference_reads_the_file_without_its_trailing_newline(environ: dict[str, str], tmp_path: Path) -> None:
    secret = tmp_path / "host"
    secret.write_text("10.0.0.7\n")
    environ["LEGION_WEB_HOST"] = f"file://{secret}"
    assert config_load(environ)["web.host"] == "10.0.0.7"


def test_vault_reference_reads_kv_v2_with_the_configured_token(environ: dict[str, str], vault: FakeVault) -> None:
    vault.put("secret", "legion/web", {"host": "from-vault"})
    environ |= {"VAULT_ADDR": vault.url, "VAULT_TOKEN": "root-token", "LEGION_WEB_HOST": "vault://secret/legion/web#host"}

    config = config_load(environ)

    assert config["web.host"] == "from-vault"
    assert vault.reads == 1


def test_fallback_chain_takes_the_first_reference_that_resolves(
    environ: dict[str, str], vault: FakeVault, tmp_path: Path
) -> None:
    toml = tmp_path / "legion.toml"
    toml.write_text('[web]\nhost = ["vault://secret/missing#host", "env://LEGION_TEST_UNSET_VAR", "fallback.local"]\n')
    environ |= {"LEGION_SETTINGS_FILE": str(toml), "VAULT_ADDR": vault.url, "VAULT_TOKEN": "root-token"}

    assert config_load(environ)["web.host"] == "fallback.local"


def test_unresolvable_chain_names_the_setting_and_every_reference(environ: dict[str, str], vault: FakeVault) -> None:
    environ |= {"VAULT_ADDR": vault.url, "VAULT_TOKEN": "wrong-token",
                "LEGION_WEB_HOST": '["vault://secret/legion/web#host", "env://LEGION_TEST_UNSET_VAR"]'}
    vault.put("secret", "legion/web", {"host": "x"})

    with pytest.raises(ConfigurationError) as raised:
        config_load(environ)

    message = str(raised.value)
    assert "variable LEGION_WEB_HOST: setting 'web.host': no reference resolved" in message
    assert "vault://secret/legion/web#host: Vault denied access" in message
    assert "env://LEGION_TEST_UNSET_VAR: environment variable LEGION_TEST_UNSET_VAR is not set" in message


def test_vault_reference_without_vault_configured_says_so(environ: dict[str, str]) -> None:
    environ["LEGION_WEB_HOST"] = "vault://secret/legion/web#host"
    with pytest.raises(ConfigurationError, match="no Vault is configured"):
        config_load(environ)


def test_missing_key_in_an_existing_vault_secret(environ: dict[str, str], vault: FakeVault) -> None:
    vault.put("secret", "legion/web", {"port": "1"})
    environ |= {"VAULT_ADDR": vault.url, "VAULT_TOKEN": "root-token", "LEGION_WEB_HOST": "vault://secret/legion/web#host"}
    with pytest.raises(ConfigurationError, match="has no key 'host'"):
        config_load(environ)


def test_unreachable_vault_is_reported_not_raised_raw(environ: dict[str, str]) -> None:
    environ |= {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": "t", "LEGION_WEB_HOST": "vault://secret/a#b"}
    with pytest.raises(ConfigurationError, match=r"Vault at http://127\.0\.0\.1:1 is unreachable"):
        config_load(environ)


def test_references_inside_table_settings_are_resolved(full_environ: dict[str, str], tmp_path: Path) -> None:
    key_file = tmp_path / "k2"
    key_file.write_text("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    full_environ["LEGION_CRYPTO_KEYS"] = f'{{"k1": "file://{key_file}"}}'
    assert config_load(full_environ)["crypto.keys"] == {"k1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}


def test_a_missing_required_secret_stops_startup_naming_setting_and_reference(full_environ: dict[str, str]) -> None:
    full_environ["SECRET_KEY"] = "env://LEGION_TEST_NO_SUCH_SECRET"
    with pytest.raises(ConfigurationError) as raised:
        config_load(full_environ)
    assert "setting 'secret_key'" in str(raised.value)
    assert "env://LEGION_TEST_NO_SUCH_SECRET" in str(raised.value)

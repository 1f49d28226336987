"""`proxy.*` settings: providers, models and aliases validated, credentials resolved from secret references."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.config import ConfigError, proxy_settings_build

PROVIDER = {"name": "oai", "kind": "openai", "api_key": "env://LEGION_TEST_PROXY_KEY",
            "models": [{"id": "gpt", "capabilities": ["function_calling", "vision"], "context_window": 1000}]}


def test_providers_get_defaults_and_canonical_capabilities(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGION_TEST_PROXY_KEY", "sk-123")
    settings = proxy_settings_build({"proxy.providers": [PROVIDER, {"name": "local", "kind": "vllm",
                                     "base_url": "http://127.0.0.1:8000/v1/", "models": [{"id": "q"}]}]})
    oai, local = settings.providers
    assert oai.base_url == "https://api.openai.com/v1" and oai.tier == "frontier"
    assert oai.models[0].capabilities == {"tools", "vision"} and oai.models[0].upstream == "gpt"
    assert local.kind == "openai_compatible" and local.tier == "fleet" and local.base_url.endswith("/v1")
    assert settings.credentials == {"oai": "sk-123"}


def test_credentials_follow_a_fallback_chain(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("from-file\n")
    provider = {**PROVIDER, "api_key": ["env://LEGION_TEST_PROXY_UNSET", f"file://{secret}"]}
    assert proxy_settings_build({"proxy.providers": [provider]}).credentials["oai"] == "from-file"


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "bard"}, "kind"),
    ({"models": []}, "models"),
    ({"api_key": "env://LEGION_TEST_PROXY_UNSET"}, "did not resolve"),
    ({"models": [{"id": "g", "capabilities": ["telepathy"]}]}, "telepathy"),
    ({"tier": "orbit"}, "tier"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_providers_name_the_problem(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        proxy_settings_build({"proxy.providers": [{**PROVIDER, **change}]})
    assert "'oai'" in str(raised.value)


def test_duplicate_names_and_bad_aliases_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGION_TEST_PROXY_KEY", "k")
    with pytest.raises(ConfigError, match="duplicate"):
        proxy_settings_build({"proxy.providers": [PROVIDER, PROVIDER]})
    with pytest.raises(ConfigError, match="fast"):
        proxy_settings_build({"proxy.aliases": {"fast": []}})


def test_breaker_store_follows_the_mode() -> None:
    full = proxy_settings_build({"mode": "full", "redis.url": "redis://127.0.0.1:6379/0"})
    lite = proxy_settings_build({"mode": "lite"})
    assert (full.breaker.store, lite.breaker.store) == ("redis", "memory")


def test_retry_backoff_grows_with_full_jitter_up_to_its_cap() -> None:
    backoff = proxy_settings_build({"proxy.retry.backoff_base_ms": 100, "proxy.retry.backoff_max_ms": 300}).backoff
    assert (backoff.base, backoff.cap) == (0.1, 0.3)
    for retry, ceiling in ((0, 0.1), (1, 0.2), (2, 0.3), (6, 0.3)):
        delays = [backoff.delay(retry) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling / 2 and len(set(delays)) > 100  # spread over the range, not fixed

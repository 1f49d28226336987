"""Fixtures for the proxy's tests: fake providers served over loopback HTTP and canonical request builders."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import openai
import pytest

from apps.rbac.decisions import PolicyData
from apps.rbac.keys import KeyMaterial
from apps.rbac.models import ApiKey, Policy, Principal
from proxy.callers import Caller
from proxy.config import Backoff, BreakerSettings, Deadlines, ModelSpec, ProviderSpec, ProxySettings
from proxy.runtime import runtime_configure
from proxy.types import ChatRequest, Message, TextPart, Tool
from tests.proxy.fakes.anthropic import FakeAnthropic
from tests.proxy.fakes.ollama import FakeOllama
from tests.proxy.fakes.openai import FakeOpenAI
from tests.proxy.fakes.server import LoopbackServer, serving

# A caller whose policies allow every model, for routing tests that are not about RBAC.
ANY_MODEL = Caller(principal="any-model", policies=(
    PolicyData.from_document("any-model", rules=[{"path": "models*", "actions": ["execute"]}], deny=[]),))
FAST = Deadlines(connect=2.0, first_token=5.0, idle=5.0, total=20.0)
WEATHER = Tool("get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}},
                                                      "required": ["city"]})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_openai() -> Iterator[tuple[FakeOpenAI, LoopbackServer]]:
    fake = FakeOpenAI(api_key="sk-openai")
    with serving(fake) as server:
        yield fake, server


@pytest.fixture
def fake_anthropic() -> Iterator[tuple[FakeAnthropic, LoopbackServer]]:
    fake = FakeAnthropic(api_key="sk-ant")
    with serving(fake) as server:
        yield fake, server


@pytest.fixture
def fake_ollama() -> Iterator[tuple[FakeOllama, LoopbackServer]]:
    fake = FakeOllama()
    with serving(fake) as server:
        yield fake, server


def model_spec(model_id: str, *capabilities: str, **extra: Any) -> ModelSpec:
    return ModelSpec(id=model_id, capabilities=frozenset({"streaming", *capabilities}), **extra)


def provider_spec(name: str, kind: str, base_url: str, *models: ModelSpec, **extra: Any) -> ProviderSpec:
    return ProviderSpec(name=name, kind=kind, base_url=base_url, models=list(models), **extra)  # type: ignore[arg-type]


def chat(text: str = "Hi", **fields: Any) -> ChatRequest:
    return ChatRequest(model=fields.pop("model", "m"), messages=(Message("user", (TextPart(text),)),), **fields)


# Real RBAC keys with fixed material, so module constants can name them; stored hashed like any key.
TEST_MATERIAL = KeyMaterial(prefix="prxsuite", secret="proxy-suite-operator-secret-0123456789abcdef")
LOCAL_ONLY_MATERIAL = KeyMaterial(prefix="prxlocal", secret="proxy-suite-local-only-secret-0123456789abc")
TEST_KEY = TEST_MATERIAL.raw
LOCAL_ONLY_KEY = LOCAL_ONLY_MATERIAL.raw


@pytest.fixture(scope="module")
def proxy_keys(django_db_setup: None, django_db_blocker: Any) -> None:
    """The principals behind TEST_KEY (operator) and LOCAL_ONLY_KEY (operator, barred from cloud and frontier).

    Committed outside any test transaction because the served proxy verifies keys from another thread;
    ensured per module since a transactional test in another module may have flushed the tables.
    """
    with django_db_blocker.unblock():
        operator = Policy.objects.get(name="operator")
        no_remote, _ = Policy.objects.get_or_create(
            name="proxy-suite-no-remote-tiers",
            defaults={"rules": [], "deny": [{"path": "models/cloud/*", "actions": ["execute"]},
                                            {"path": "models/frontier/*", "actions": ["execute"]}]})
        for name, material, policies in (("proxy-suite", TEST_MATERIAL, [operator]),
                                         ("proxy-suite-local", LOCAL_ONLY_MATERIAL, [operator, no_remote])):
            principal, _ = Principal.objects.get_or_create(name=name, defaults={"kind": "service"})
            principal.policies.set(policies)
            ApiKey.objects.get_or_create(prefix=material.prefix, defaults={
                "principal": principal, "name": "proxy test suite", "secret_hash": material.secret_hash})


@dataclass
class Stack:
    """The proxy served over loopback HTTP in front of four fake providers."""

    proxy: LoopbackServer
    ollama: FakeOllama
    vllm: FakeOpenAI
    openai: FakeOpenAI
    anthropic: FakeAnthropic
    urls: dict[str, str]

    @property
    def url(self) -> str:
        return self.proxy.url

    def configure(self, **overrides: Any) -> ProxySettings:
        """Install settings for the next requests: the standard catalog, with `overrides` applied."""
        settings = stack_settings(self.urls, **overrides)
        runtime_configure(settings)
        return settings

    def reset(self) -> None:
        for fake in (self.ollama, self.vllm, self.openai, self.anthropic):
            fake.requests.clear()
            fake.scripts.clear()

    def openai_client(self, key: str = TEST_KEY, **headers: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0, timeout=15,
                             default_headers=headers or None)

    def anthropic_client(self, key: str = TEST_KEY, **headers: str) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.url, api_key=key, max_retries=0, timeout=15,
                                   default_headers=headers or None)


def stack_settings(urls: dict[str, str], **overrides: Any) -> ProxySettings:
    providers = (
        provider_spec("ollama-local", "ollama", urls["ollama"],
                      model_spec("llama3", "tools", context_window=8192),
                      ModelSpec(id="nomic-embed", capabilities=frozenset({"embeddings"}))),
        provider_spec("vllm-fleet", "openai_compatible", urls["vllm"] + "/v1",
                      model_spec("qwen", "tools", "thinking", context_window=32768)),
        provider_spec("openai", "openai", urls["openai"] + "/v1",
                      model_spec("gpt-x", "tools", "vision", "json", context_window=128000, price_in=2, price_out=8),
                      ModelSpec(id="text-embed", capabilities=frozenset({"embeddings"}))),
        provider_spec("anthropic", "anthropic", urls["anthropic"],
                      model_spec("claude-x", "tools", "vision", "json", "thinking", "prefill", context_window=200000,
                                 price_in=3, price_out=15)),
    )
    base: dict[str, Any] = {
        "providers": providers,
        "aliases": {"smart": ("claude-x", "gpt-x"), "fast": ("llama3", "qwen")},
        "credentials": {"openai": "sk-openai", "anthropic": "sk-ant"},
        "deadlines": Deadlines(connect=2.0, first_token=2.0, idle=1.0, total=15.0),
        "keepalive_seconds": 0.2,
        "backoff": Backoff(base=0.02, cap=0.1),  # retries of one lane come quickly here
        "breaker": BreakerSettings(store="memory", failure_threshold=3, window_seconds=60, cooldown_seconds=30),
    }
    base.update(overrides)
    return ProxySettings(**base)


@pytest.fixture(scope="module")
def served_stack(proxy_keys: None) -> Iterator[Stack]:
    from proxy.asgi import application

    fakes = (FakeOllama(), FakeOpenAI(flavour="vllm"), FakeOpenAI(api_key="sk-openai"), FakeAnthropic(api_key="sk-ant"))
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(serving(fake)) for fake in fakes]
        urls = dict(zip(("ollama", "vllm", "openai", "anthropic"), (s.url for s in servers), strict=True))
        proxy = stack.enter_context(serving(application, http="httptools"))
        try:
            yield Stack(proxy, *fakes, urls=urls)  # type: ignore[arg-type]
        finally:
            runtime_configure(None)


@pytest.fixture
def stack(served_stack: Stack) -> Stack:
    served_stack.reset()
    served_stack.configure()
    return served_stack

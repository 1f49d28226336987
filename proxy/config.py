"""The proxy's settings: provider instances, models and aliases validated from the layered config (`proxy.*`)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from apps.core.config.secrets import SecretReferenceError, VaultAccess, chain_resolve, reference_parse
from proxy.local_model import local_model_entries

TIERS = ("local", "direct", "fleet", "cloud", "frontier")
TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}
CAPABILITIES = frozenset({"tools", "vision", "json", "thinking", "streaming", "embeddings", "prefill"})
_CAPABILITY_ALIASES = {
    "function_calling": "tools", "functions": "tools", "tool": "tools", "tool_use": "tools",
    "stream": "streaming", "embedding": "embeddings", "embed": "embeddings", "reasoning": "thinking",
    "structured_output": "json", "images": "vision",
}
ProviderKind = Literal["openai", "anthropic", "ollama", "openai_compatible"]
# vLLM and llama.cpp's server speak OpenAI's wire format; the names are kept so settings read naturally.
_KIND_ALIASES = {"vllm": "openai_compatible", "llamacpp": "openai_compatible", "llama_cpp": "openai_compatible"}
_DEFAULT_URL = {
    "openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com",
    "ollama": "http://127.0.0.1:11434",
}
_FAMILY = {"openai": "openai", "openai_compatible": "openai", "anthropic": "anthropic"}
_DEFAULT_TIER = {"openai": "frontier", "anthropic": "frontier", "ollama": "local", "openai_compatible": "fleet"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ConfigError(ValueError):
    """The `proxy.*` settings are invalid; the message names the provider or alias and the problem."""


class ModelSpec(BaseModel):
    """One model a provider instance serves. `id` is what clients ask for; `upstream` what the provider calls it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    upstream: str = ""
    capabilities: frozenset[str] = frozenset({"streaming"})
    context_window: int = Field(8192, gt=0)
    max_output: int = Field(4096, gt=0)
    price_in: float = Field(0.0, ge=0, description="price per million input tokens")
    price_out: float = Field(0.0, ge=0, description="price per million output tokens")
    tier: Literal["local", "direct", "fleet", "cloud", "frontier"] | None = None

    @field_validator("capabilities", mode="before")
    @classmethod
    def _canonical_capabilities(cls, value: Any) -> frozenset[str]:
        if not isinstance(value, list | tuple | set | frozenset):
            raise ValueError("capabilities must be a list of names")
        names = {_CAPABILITY_ALIASES.get(str(name), str(name)) for name in value}
        unknown = names - CAPABILITIES
        if unknown:
            raise ValueError(f"unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}")
        return frozenset(names)

    @model_validator(mode="after")
    def _default_upstream(self) -> ModelSpec:
        if not self.upstream:
            object.__setattr__(self, "upstream", self.id)
        return self

    @property
    def embeddings_only(self) -> bool:
        return self.capabilities == {"embeddings"}


class ProviderSpec(BaseModel):
    """One provider instance: where it is, how to authenticate, its tier and the models it serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: ProviderKind
    base_url: str = ""
    tier: Literal["local", "direct", "fleet", "cloud", "frontier"] | None = None
    api_key: str | list[str] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    concurrency: int = Field(64, gt=0)
    models: list[ModelSpec] = Field(min_length=1)

    @field_validator("kind", mode="before")
    @classmethod
    def _canonical_kind(cls, value: Any) -> Any:
        return _KIND_ALIASES.get(value, value) if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("letters, digits, '.', '_' and '-' only")
        return value

    @model_validator(mode="after")
    def _defaults(self) -> ProviderSpec:
        if not self.base_url:
            if self.kind not in _DEFAULT_URL:
                raise ValueError(f"base_url is required for kind '{self.kind}'")
            object.__setattr__(self, "base_url", _DEFAULT_URL[self.kind])
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.tier is None:
            object.__setattr__(self, "tier", _DEFAULT_TIER[self.kind])
        return self

    def tier_of(self, model: ModelSpec) -> str:
        return model.tier or self.tier or _DEFAULT_TIER[self.kind]

    @property
    def family(self) -> str | None:
        """The client wire family whose native fields this provider takes verbatim (see proxy.types.Native)."""
        return _FAMILY.get(self.kind)


@dataclass(frozen=True)
class Deadlines:
    """Seconds. Per attempt: connect, first event, idle gap between events; per request: total."""

    connect: float = 5.0
    first_token: float = 60.0
    idle: float = 30.0
    total: float = 600.0


@dataclass(frozen=True)
class Backoff:
    """Seconds between retries of one lane when no other is left: exponential from `base`, at most `cap`."""

    base: float = 0.5
    cap: float = 8.0

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry` (0 for the first), with full jitter: requests that failed together
        (one provider, one outage) come back spread out rather than in a wave."""
        return random.uniform(0.0, min(self.cap, self.base * 2 ** retry))


@dataclass(frozen=True)
class BreakerSettings:
    store: Literal["memory", "redis"] = "memory"
    failure_threshold: int = 3
    window_seconds: float = 60.0
    cooldown_seconds: float = 30.0
    redis_url: str | None = None


@dataclass(frozen=True)
class LimitSettings:
    """Per-provider concurrency (each instance's `concurrency`): shared through Redis leases in full mode."""

    store: Literal["memory", "redis"] = "memory"
    lease_seconds: float = 15.0  # a dead proxy's slots come back after this long
    redis_url: str | None = None


@dataclass(frozen=True)
class ProxySettings:
    providers: tuple[ProviderSpec, ...] = ()
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict)
    max_body_bytes: int = 16 * 1024 * 1024
    max_messages: int = 2000
    max_tools: int = 256
    max_json_depth: int = 64
    max_attempts: int = 3
    deadlines: Deadlines = Deadlines()
    keepalive_seconds: float = 5.0
    retry_after_max_seconds: float = 300.0
    backoff: Backoff = Backoff()
    breaker: BreakerSettings = BreakerSettings()
    limits: LimitSettings = LimitSettings()
    ledger_queue_size: int = 10000


def proxy_settings_build(config: Mapping[str, Any], *, vault: VaultAccess | None = None) -> ProxySettings:
    """Validate `proxy.*` from the loaded config and resolve provider credentials; raise ConfigError if invalid.

    Credentials are secret references (or fallback chains of them) resolved once here, so the hot path never
    reads the environment, a file or Vault.
    """
    vault = vault or VaultAccess(addr=config.get("vault.addr"), token=config.get("vault.token"))
    # The bundled local model joins the declared providers when a supervisor says where it runs.
    declared = [*(config.get("proxy.providers") or []), *local_model_entries(config)]
    providers = tuple(_provider(index, raw) for index, raw in enumerate(declared))
    names = [p.name for p in providers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"proxy.providers: duplicate provider names {duplicates}")
    aliases = _aliases(config.get("proxy.aliases") or {})
    store = _store(config, "proxy.breaker.store")
    return ProxySettings(
        providers=providers,
        aliases=aliases,
        credentials={p.name: key for p in providers if (key := _credential(p, vault)) is not None},
        max_body_bytes=int(config.get("proxy.max_body_bytes", 16 * 1024 * 1024)),
        max_messages=int(config.get("proxy.max_messages", 2000)),
        max_tools=int(config.get("proxy.max_tools", 256)),
        max_json_depth=int(config.get("proxy.max_json_depth", 64)),
        max_attempts=int(config.get("proxy.max_attempts", 3)),
        deadlines=Deadlines(
            connect=config.get("proxy.deadline.connect_ms", 5000) / 1000,
            first_token=config.get("proxy.deadline.first_token_ms", 60000) / 1000,
            idle=config.get("proxy.deadline.idle_ms", 30000) / 1000,
            total=config.get("proxy.deadline.total_ms", 600000) / 1000,
        ),
        keepalive_seconds=config.get("proxy.keepalive_ms", 5000) / 1000,
        retry_after_max_seconds=float(config.get("proxy.retry_after_max_seconds", 300)),
        backoff=Backoff(base=config.get("proxy.retry.backoff_base_ms", 500) / 1000,
                        cap=config.get("proxy.retry.backoff_max_ms", 8000) / 1000),
        breaker=BreakerSettings(
            store=store,
            failure_threshold=int(config.get("proxy.breaker.failure_threshold", 3)),
            window_seconds=float(config.get("proxy.breaker.window_seconds", 60)),
            cooldown_seconds=float(config.get("proxy.breaker.cooldown_seconds", 30)),
            redis_url=config.get("redis.url"),
        ),
        limits=LimitSettings(store=_store(config, "proxy.limits.store"),
                             lease_seconds=float(config.get("proxy.limits.lease_seconds", 15)),
                             redis_url=config.get("redis.url")),
        ledger_queue_size=int(config.get("proxy.ledger.queue_size", 10000)),
    )


def _store(config: Mapping[str, Any], key: str) -> Any:
    """`auto` is Redis in full mode (state every proxy process shares), memory otherwise."""
    store = config.get(key, "auto")
    if store == "auto":
        store = "redis" if config.get("mode") == "full" and config.get("redis.url") else "memory"
    return store


def provider_spec_validate(raw: Any, *, index: int = 0) -> ProviderSpec:
    """One provider entry in the settings file's format (from the admin, the API, a file); ConfigError if invalid."""
    return _provider(index, raw)


def providers_list(sources: Iterable[tuple[str, Iterable[Any]]]) -> tuple[list[tuple[ProviderSpec, str]], list[str]]:
    """The valid provider entries of each (source, entries), with their source; and why each invalid one is not."""
    listed: list[tuple[ProviderSpec, str]] = []
    problems: list[str] = []
    for source, entries in sources:
        for index, raw in enumerate(entries):
            try:
                listed.append((provider_spec_validate(raw, index=index), source))
            except ConfigError as exc:
                problems.append(f"{source}: {exc}")
    return listed, problems


def provider_credential(provider: ProviderSpec, *, vault: VaultAccess) -> str | None:
    """The provider's resolved API key (None without one); ConfigError when its references do not resolve."""
    return _credential(provider, vault)


def _provider(index: int, raw: Any) -> ProviderSpec:
    where = f"proxy.providers[{index}]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(raw).__name__}")
    if isinstance(raw.get("name"), str):
        where = f"proxy.providers '{raw['name']}'"
    try:
        return ProviderSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(table)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from exc


def _aliases(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    aliases: dict[str, tuple[str, ...]] = {}
    for name, members in raw.items():
        if isinstance(members, str):
            members = [members]
        if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
            raise ConfigError(f"proxy.aliases '{name}': expected a non-empty list of model names")
        aliases[name] = tuple(members)
    return aliases


def _credential(provider: ProviderSpec, vault: VaultAccess) -> str | None:
    if provider.api_key is None:
        return None
    chain = [provider.api_key] if isinstance(provider.api_key, str) else provider.api_key
    try:
        for candidate in chain:
            reference_parse(candidate)
    except SecretReferenceError as exc:
        raise ConfigError(f"proxy.providers '{provider.name}': api_key: {exc}") from exc
    resolution = chain_resolve(chain, vault=vault)
    if resolution.value is None:
        raise ConfigError(f"proxy.providers '{provider.name}': api_key did not resolve: {resolution.reason}")
    return resolution.value

"""Provider adapters, one module each, chosen by the `kind` of a provider instance in the settings."""

from __future__ import annotations

from proxy.config import Deadlines, ProviderSpec
from proxy.providers.anthropic import AnthropicProvider
from proxy.providers.base import HttpProvider, Provider
from proxy.providers.ollama import OllamaProvider
from proxy.providers.openai import OpenAIProvider
from proxy.providers.openai_compatible import OpenAICompatibleProvider

ADAPTERS: dict[str, type[HttpProvider]] = {
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
    "ollama": OllamaProvider,
    "openai_compatible": OpenAICompatibleProvider,
}


def provider_build(spec: ProviderSpec, *, api_key: str | None, deadlines: Deadlines) -> Provider:
    """A provider instance with its own pooled client; the caller owns it and must `aclose()` it."""
    provider: Provider = ADAPTERS[spec.kind](spec, api_key=api_key, deadlines=deadlines)
    return provider

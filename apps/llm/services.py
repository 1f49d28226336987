"""Writes of the lineup: a provider with its models and an alias, validated like the settings file.

Each write runs in one transaction; the lineup version is bumped after commit (apps/llm/signals.py), so
every proxy process rebuilds its lineup within about a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.errors import ApplicationError
from apps.llm.models import Alias, LlmModel, Provider

_MODEL_FIELDS = {"id": "model_id", "upstream": "upstream", "capabilities": "capabilities",
                 "context_window": "context_window", "max_output": "max_output", "price_in": "price_in",
                 "price_out": "price_out", "tier": "tier"}


@transaction.atomic
def provider_save(*, name: str, kind: str, models: Sequence[Mapping[str, Any]], instance: Provider | None = None,
                  base_url: str = "", tier: str | None = "", api_key: str | list[str] | None = None,
                  headers: Mapping[str, str] | None = None, concurrency: int = 64) -> Provider:
    """Create (or replace, given `instance`) a provider and its whole list of models.

    Raises ApplicationError `invalid_provider` (field named) when the entry would not pass as a settings-file
    provider, or `declared_in_settings` when the settings file already declares its name.
    """
    provider = instance or Provider()
    provider.name, provider.kind, provider.base_url, provider.tier = name, kind, base_url or "", tier or ""
    provider.api_key = [api_key] if isinstance(api_key, str) else list(api_key or [])
    provider.headers, provider.concurrency = dict(headers or {}), concurrency
    if not models:
        raise ApplicationError("invalid_provider", "a provider needs at least one model", field="models")
    _checked(provider)
    provider.save()
    provider.models.all().delete()
    for raw in models:
        model = LlmModel(provider=provider, **{_MODEL_FIELDS[k]: v for k, v in raw.items() if k in _MODEL_FIELDS})
        model.tier = model.tier or ""
        _checked(model, field="models")
        model.save()
    return provider


@transaction.atomic
def provider_delete(*, provider: Provider) -> None:
    provider.delete()


@transaction.atomic
def alias_save(*, name: str, members: list[str], instance: Alias | None = None) -> Alias:
    """Create or replace an alias; ApplicationError when a member names no declared model."""
    alias = instance or Alias()
    alias.name, alias.members = name, members
    _checked(alias)
    alias.save()
    return alias


@transaction.atomic
def alias_delete(*, alias: Alias) -> None:
    alias.delete()


def _checked(instance: Provider | LlmModel | Alias, *, field: str | None = None) -> None:
    try:
        instance.full_clean(exclude=["provider"] if isinstance(instance, LlmModel) else None)
    except ValidationError as exc:
        problems = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        key, messages = next(iter(problems.items()))
        code = next((e.code for errors in getattr(exc, "error_dict", {}).values() for e in errors if e.code),
                    "invalid_provider")
        raise ApplicationError(code or "invalid_provider", f"{key}: {'; '.join(messages)}",
                               field=field or (None if key == "__all__" else key)) from exc

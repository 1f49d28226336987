"""Reads of the lineup: the admin's rows in the settings file's format, and the names the settings file takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from apps.llm.models import Alias, Provider
from proxy.admin_lineup import AdminEntries
from proxy.local_model import PROVIDER_NAME, local_model_entries


def _file_config() -> Mapping[str, Any]:
    return settings.CONFIG.values


def settings_provider_names() -> set[str]:
    """Provider names the settings file declares, plus the bundled local model's (reserved even when absent)."""
    declared = _file_config().get("proxy.providers") or []
    return {str(p.get("name")) for p in declared if isinstance(p, Mapping)} | {PROVIDER_NAME}


def settings_alias_names() -> set[str]:
    return set(_file_config().get("proxy.aliases") or {})


def provider_entries() -> list[dict[str, Any]]:
    """Every admin provider with at least one model, in the settings file's format (declaration order: name)."""
    providers = Provider.objects.prefetch_related("models").order_by("name")
    return [provider.entry() for provider in providers if provider.models.all()]


def alias_entries() -> dict[str, list[str]]:
    return {alias.name: list(alias.members) for alias in Alias.objects.order_by("name")}


def admin_entries() -> AdminEntries:
    """The rows as the proxy reads them: the PROXY_ADMIN_ENTRIES setting names this reader (proxy/admin_lineup.py)."""
    return AdminEntries(providers=provider_entries(), aliases=alias_entries())


def lineup_names() -> set[str]:
    """Model ids and `provider/model` pairs declared anywhere (settings file and admin): what aliases may name."""
    names: set[str] = set()
    file_providers = [p for p in _file_config().get("proxy.providers") or [] if isinstance(p, Mapping)]
    for entry in [*file_providers, *local_model_entries(_file_config()), *provider_entries()]:
        for model in entry.get("models") or []:
            if isinstance(model, Mapping) and "id" in model:
                names |= {str(model["id"]), f"{entry.get('name')}/{model['id']}"}
    return names

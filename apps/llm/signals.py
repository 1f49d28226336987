"""The catalog's change signal: any write to a provider, model or alias bumps one version in the shared cache.

Each proxy process polls it (proxy/catalog_live.py) and rebuilds its catalog when it moved, so a change made
anywhere (the API, the admin, a shell) routes within about a second without a restart.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

CATALOG_VERSION_KEY = "llm:catalog:version"


def catalog_version_bump(**kwargs: Any) -> None:
    """Bump after commit, so a proxy that reloads at once reads the new rows, not the old ones."""
    transaction.on_commit(lambda: cache.set(CATALOG_VERSION_KEY, uuid.uuid4().hex, timeout=None))


def catalog_signals_connect() -> None:
    from apps.llm.models import Alias, LlmModel, Provider

    for model in (Provider, LlmModel, Alias):
        post_save.connect(catalog_version_bump, sender=model, dispatch_uid=f"llm-catalog-save-{model.__name__}")
        post_delete.connect(catalog_version_bump, sender=model, dispatch_uid=f"llm-catalog-delete-{model.__name__}")

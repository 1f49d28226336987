"""The lineup's change signal: any write to a provider, model or alias bumps one version in the shared cache.

Each proxy process polls it (proxy/admin_lineup.py, which owns the key) and rebuilds its lineup when it moved, so a
change made anywhere (the API, the admin, a shell) routes within about a second without a restart.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from proxy.admin_lineup import VERSION_KEY


def lineup_version_bump(**kwargs: Any) -> None:
    """Bump after commit, so a proxy that reloads at once reads the new rows, not the old ones."""
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None))


def lineup_signals_connect() -> None:
    from apps.llm.models import Alias, LlmModel, Provider

    for model in (Provider, LlmModel, Alias):
        post_save.connect(lineup_version_bump, sender=model, dispatch_uid=f"llm-lineup-save-{model.__name__}")
        post_delete.connect(lineup_version_bump, sender=model, dispatch_uid=f"llm-lineup-delete-{model.__name__}")

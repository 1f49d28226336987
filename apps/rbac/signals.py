"""RBAC's change signal: any write that can change a decision bumps one version in the shared cache.

In-process caches of decisions (the LLM proxy's key cache) compare it to notice a change made in any
process, even one that bypassed the services (the admin, a shell). Receivers are connected in apps.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction

RBAC_VERSION_KEY = "rbac:version"


def rbac_version_bump(**kwargs: Any) -> None:
    """Bump after commit, so a cache that reloads at once reads the new state, not the old one."""
    transaction.on_commit(lambda: cache.set(RBAC_VERSION_KEY, uuid.uuid4().hex, timeout=None))

"""RBAC's change signal: any write that can change a decision bumps one version every process can read.

In-process caches of decisions (the LLM proxy's key cache) compare it to notice a change made in any
process, even one that bypassed the services (the admin, a shell, the CLI). Receivers are connected in
apps.py. Full mode keeps the version in the shared cache (Redis). Lite mode's cache is local memory, one
per process, so a bump by the CLI would never reach the web process: there the version is a file under
LEGION_HOME (`settings.RBAC_VERSION_FILE`) that every process on the machine reads.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

RBAC_VERSION_KEY = "rbac:version"


def rbac_version_bump(**kwargs: Any) -> None:
    """Bump after commit, so a cache that reloads at once reads the new state, not the old one."""
    transaction.on_commit(_version_write)


async def rbac_version_aget() -> str | None:
    """The current version (None before the first change); compare it, never interpret it."""
    path = _version_file()
    if path is None:
        return await cache.aget(RBAC_VERSION_KEY)
    # A read of a few bytes of local disk, at most once a second per process: not worth a thread hop.
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _version_write() -> None:
    version = uuid.uuid4().hex
    path = _version_file()
    if path is None:
        cache.set(RBAC_VERSION_KEY, version, timeout=None)
        return
    # Write then rename: a reader sees the old version or the new one, never half of one.
    temporary = path.with_name(f"{path.name}.{version}.tmp")  # unique: threads of one process bump too
    temporary.write_text(version)
    temporary.replace(path)


def _version_file() -> Path | None:
    path = settings.RBAC_VERSION_FILE
    return Path(path) if path else None

"""Leader leases: at most one holder of a name at a time, lost when the holder stops renewing or dies.

Three backends behind one protocol (`leases.backend`): Redis (`SET NX PX`, renewed and released by
compare-and-set scripts, so a holder can never extend or free a lease another process took over),
PostgreSQL session advisory locks (held as long as the holder's own connection lives), and a file
lock for one machine (lite mode). The beat scheduler and singleton actors use them.
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import Protocol

from django.conf import settings
from django.db import connection


class Lease(Protocol):
    name: str
    holder: str
    ttl_ms: int

    def acquire(self) -> bool:
        """Take the lease if nobody holds it (or we already do); False when another holder has it."""

    def renew(self) -> bool:
        """Extend our hold for another ttl; False means we no longer hold it and must stop acting as leader."""

    def release(self) -> None:
        """Give the lease up now if we hold it (never frees someone else's)."""


def holder_id() -> str:
    """Who holds a lease: host, pid and a random part, so a restarted process is a new holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def lease_backend() -> str:
    """`leases.backend`, with `auto` resolved: Redis when configured, else PostgreSQL, else a file lock."""
    backend = str(settings.CONFIG["leases.backend"])
    if backend != "auto":
        return backend
    if settings.CONFIG["redis.url"]:
        return "redis"
    return "postgres" if connection.vendor == "postgresql" else "file"


def lease_build(name: str, *, ttl_ms: int) -> Lease:
    """A lease on `name` for this process, on the configured backend."""
    backend = lease_backend()
    holder = holder_id()
    if backend == "redis":
        from apps.core.leases.redis_lease import RedisLease

        return RedisLease(name=name, holder=holder, ttl_ms=ttl_ms, url=settings.CONFIG["redis.url"])
    if backend == "postgres":
        from apps.core.leases.postgres_lease import PostgresLease

        return PostgresLease(name=name, holder=holder, ttl_ms=ttl_ms)
    from apps.core.leases.file_lease import FileLease

    return FileLease(name=name, holder=holder, ttl_ms=ttl_ms, directory=settings.LEGION_HOME / "locks")

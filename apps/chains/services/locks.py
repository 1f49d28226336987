"""A per-run execution lock that dies with the process holding it.

PostgreSQL session advisory locks are released when the holder's connection closes, so a worker
killed mid-task frees its run for the redelivered message at once, while a duplicate delivery that
arrives during a live execution is turned away. SQLite (lite mode) runs one worker; its database
write lock already serialises the claim, so there the lock always succeeds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def run_lock(run_id: str) -> Iterator[bool]:
    """Yield True when this process now holds the run's lock (released on exit), False when another does."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = _lock_key(run_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _lock_key(run_id: str) -> int:
    """64 bits of the UUID as a signed bigint; a collision only makes two runs take turns."""
    return int.from_bytes(uuid.UUID(str(run_id)).bytes[:8], "big", signed=True)

"""Who is executing a running run: a token that lives exactly as long as its holder's database session.

A claim writes the claiming session's token into the run (`TaskRun.holder`). On PostgreSQL a session
takes a session advisory lock on its token the first time it claims, so the lock goes away with the
connection: when a worker is killed mid-task its run's holder is dead at once, while a duplicate
delivery that arrives during a live execution finds the holder's lock taken and is turned away. This
costs one statement per connection instead of a lock and an unlock per run.

SQLite (lite mode) runs one worker, so a run found `running` by a new delivery can only have been left
by a worker that died: there every holder counts as dead.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import connection

_TOKEN_ATTRIBUTE = "legion_holder"


def holder_token() -> int:
    """This session's token, locked on first use (and again on a new connection after a reconnect)."""
    connection.ensure_connection()
    raw = connection.connection
    held: tuple[Any, int] | None = getattr(connection, _TOKEN_ATTRIBUTE, None)
    if held is not None and held[0] is raw:
        return held[1]
    token = secrets.randbits(63)  # a random key no other session holds: the lock is granted at once
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [token])
    setattr(connection, _TOKEN_ATTRIBUTE, (raw, token))
    return token


def holder_alive(token: int | None) -> bool:
    """Whether the session that wrote `token` is still connected (and so, still executing the run)."""
    if token is None or connection.vendor != "postgresql":
        return False
    if token == holder_token():
        return False  # this session left it behind: whatever held it here is over
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [token])
        free = bool(cursor.fetchone()[0])
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [token])
    return not free

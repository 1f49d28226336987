"""Clients for the Redis connections named in `extensions.redis.connections`, and what their errors mean for a run.

There is deliberately no default connection: Legion's own Redis (cache, channel layer, proxy breakers) is not
for chains to write into unless an operator names it here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apps.runners.sdk import PermanentError, extension_connection, extension_settings


class RedisCommandError(PermanentError):
    """Redis refused the command (wrong type of key, a read-only replica, no permission): retrying will not help."""

    code = "redis_error"


@contextmanager
def redis_client(name: str) -> Iterator[Any]:
    """A client for the connection `name`, closed afterwards. Lost connections and timeouts propagate as they
    are (the run retries); a refused command becomes RedisCommandError."""
    import redis  # full mode's client; imported here so lite mode still lists the extension

    url = extension_connection("redis", name)
    timeout = extension_settings("redis")["timeout_ms"] / 1000
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        yield client
    except redis.ResponseError as exc:
        raise RedisCommandError(f"on '{name}': {exc}") from exc
    finally:
        client.close()

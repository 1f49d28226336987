"""Get and set string values by key."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from apps.runners.sdk import RunContext, runner_function
from extensions.redis.connections import redis_client

TRIGGER_WORDS = ("get", "set", "key", "value", "cache")

ConnectionName = Annotated[str, Field(min_length=1, max_length=100)]
Key = Annotated[str, Field(min_length=1, max_length=1024)]


class Got(TypedDict):
    key: str
    found: bool
    value: str | None


class Stored(TypedDict):
    key: str
    stored: bool


@runner_function(idempotent=True, risk_tier="low", trigger_words=("get", "read"), max_attempts=3, backoff_seconds=0.5)
def get(connection: ConnectionName, key: Key) -> Got:
    """The string value of `key` (`found` false and `value` null when there is none); bytes that are not UTF-8
    are replaced."""
    with redis_client(connection) as client:
        raw = client.get(key)
    return {"key": key, "found": raw is not None,
            "value": None if raw is None else raw.decode("utf-8", errors="replace")}


@runner_function(idempotent=True, risk_tier="standard", trigger_words=("set", "write", "store"),
                 max_attempts=3, backoff_seconds=0.5)
def set(  # named after the Redis command it runs, shadowing the builtin in this module only
    connection: ConnectionName,
    key: Key,
    value: Annotated[str, Field(max_length=10_000_000)],
    ctx: RunContext,
    ttl_seconds: Annotated[int, Field(ge=1)] | None = None,
    only_if_absent: bool = False,
) -> Stored:
    """Store `value` under `key`, expiring after `ttl_seconds` if given; with `only_if_absent` an existing key is
    left alone and `stored` is false."""
    with redis_client(connection) as client:
        stored = client.set(key, value, ex=ttl_seconds, nx=only_if_absent)
    ctx.log(f"set {key} on {connection}: {'stored' if stored else 'kept the existing value'}")
    return {"key": key, "stored": bool(stored)}

"""Per-provider concurrency limits as leases: in memory (lite) or in Redis (full, shared by every proxy process).

A request takes a lease on its provider instance before an attempt and gives it back when the attempt ends.
In Redis a lease is a member of a sorted set scored by its expiry; the process holding it renews it every
third of `lease_seconds`, so the slots of a proxy that died come back within `lease_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from proxy.config import LimitSettings

log = logging.getLogger("legion.proxy.limits")
# Redis errors never fail a request: without the store, limits allow (like the breakers) and say so.
UNLIMITED = "unlimited"


class Limiter(Protocol):
    async def acquire(self, key: str, limit: int) -> str | None:
        """A lease id on `key` when fewer than `limit` are held, else None; never waits."""

    def release(self, key: str, lease: str) -> None:
        """Give a lease back without waiting (Redis: in the background)."""

    async def in_use(self, keys: Iterable[str]) -> dict[str, int]: ...

    async def aclose(self) -> None: ...


class MemoryLimiter:
    """One process's leases; a process that dies takes them with it, so they need no expiry."""

    def __init__(self) -> None:
        self._held: dict[str, set[str]] = {}

    async def acquire(self, key: str, limit: int) -> str | None:
        held = self._held.setdefault(key, set())
        if len(held) >= limit:
            return None
        lease = uuid.uuid4().hex
        held.add(lease)
        return lease

    def release(self, key: str, lease: str) -> None:
        self._held.get(key, set()).discard(lease)

    async def in_use(self, keys: Iterable[str]) -> dict[str, int]:
        return {key: len(self._held.get(key, ())) for key in keys}

    async def aclose(self) -> None:
        return None


# Server time, so proxies on hosts with skewed clocks agree on which leases expired. KEYS: the lease zset.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(ttl) + 1)
return 1
"""
# KEYS: lease zsets; ARGV: ttl, then one lease id per key. Only leases still present are renewed (XX).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + ttl, ARGV[i + 1])
  redis.call('EXPIRE', key, math.ceil(ttl) + 1)
end
return #KEYS
"""


class RedisLimiter:
    """Leases shared by every proxy process; a background task renews this process's leases while held."""

    def __init__(self, settings: LimitSettings, *, prefix: str = "legion:proxy:leases") -> None:
        import redis.asyncio

        assert settings.redis_url, "the redis limit store needs redis.url"
        self.settings = settings
        self.prefix = prefix
        self.redis: Any = redis.asyncio.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._renew = self.redis.register_script(_RENEW)
        self._held: dict[str, str] = {}  # lease -> key
        self._tasks: set[asyncio.Task[Any]] = set()
        self._renewer: asyncio.Task[None] | None = None

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    async def acquire(self, key: str, limit: int) -> str | None:
        lease = uuid.uuid4().hex
        try:
            if not await self._acquire(keys=[self._key(key)], args=[self.settings.lease_seconds, limit, lease]):
                return None
        except Exception as exc:  # noqa: BLE001 - any Redis failure means "no limit information"
            log.warning("limit store unavailable, allowing %s: %r", key, exc)
            return UNLIMITED
        self._held[lease] = key
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())
        return lease

    def release(self, key: str, lease: str) -> None:
        if self._held.pop(lease, None) is None:
            return
        task = asyncio.get_running_loop().create_task(self._remove(key, lease))
        self._tasks.add(task)  # a reference, so the task is not collected before it ran
        task.add_done_callback(self._tasks.discard)

    async def _remove(self, key: str, lease: str) -> None:
        try:
            await self.redis.zrem(self._key(key), lease)
        except Exception as exc:  # noqa: BLE001 - the lease expires on its own
            log.warning("limit store unavailable, lease on %s expires in %ss: %r", key, self.settings.lease_seconds,
                        exc)

    async def _renew_forever(self) -> None:
        while self._held:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            held = list(self._held.items())
            if not held:
                return
            try:
                await self._renew(keys=[self._key(key) for _, key in held],
                                  args=[self.settings.lease_seconds, *(lease for lease, _ in held)])
            except Exception as exc:  # noqa: BLE001
                log.warning("limit store unavailable, leases not renewed: %r", exc)

    async def in_use(self, keys: Iterable[str]) -> dict[str, int]:
        keys = list(keys)
        try:
            now = float((lambda t: t[0] + t[1] / 1e6)(await self.redis.time()))
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zcount(self._key(key), now, "+inf")
                counts = await pipe.execute()
        except Exception as exc:  # noqa: BLE001
            log.warning("limit store unavailable: %r", exc)
            return {}
        return dict(zip(keys, (int(c) for c in counts), strict=True))

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewer
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task
        await self.redis.aclose()


def limiter_build(settings: LimitSettings) -> Limiter:
    return RedisLimiter(settings) if settings.store == "redis" else MemoryLimiter()

"""Per-provider circuit breakers behind one small interface: in memory (lite) or in Redis (full, shared).

closed → open after `failure_threshold` failures within `window_seconds` → half-open once `cooldown_seconds`
have passed, letting exactly one probe through → closed on its success, open again on its failure.
A provider's Retry-After holds the breaker open for that long, so no process hammers a rate-limited provider;
the hold is kept apart from the failure state: once it passes every caller is let through again, with no
half-open probe (a 429 says when the provider takes requests again, not that it is unhealthy).
"""

from __future__ import annotations

import enum
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from proxy.config import BreakerSettings

log = logging.getLogger("legion.proxy.health")


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breakers(Protocol):
    async def allow(self, key: str) -> bool:
        """May a request go to `key` now? In half-open, only the caller that wins the probe gets True."""

    async def success(self, key: str) -> None: ...

    async def failure(self, key: str, *, hold: float | None = None) -> None:
        """Count a failure; `hold` (seconds, from Retry-After) opens the breaker at once for that long."""

    async def held(self, key: str) -> float:
        """Seconds left of a Retry-After hold on `key` (0.0 when none: closed, or open after failures)."""

    async def states(self, keys: Iterable[str]) -> dict[str, BreakerState]: ...

    async def aclose(self) -> None: ...


@dataclass
class _Memory:
    failures: deque[float]
    open_until: float = 0.0
    probe_until: float = 0.0
    held_until: float = 0.0


class MemoryBreakers:
    """One process's breakers; the clock is injectable so tests can move time."""

    def __init__(self, settings: BreakerSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._state: dict[str, _Memory] = {}

    def _get(self, key: str) -> _Memory:
        return self._state.setdefault(key, _Memory(deque()))

    async def allow(self, key: str) -> bool:
        entry = self._state.get(key)
        if entry is None:
            return True
        now = self.clock()
        if now < entry.held_until:
            return False
        if not entry.open_until:
            return True
        if now < entry.open_until or now < entry.probe_until:
            return False
        entry.probe_until = now + self.settings.cooldown_seconds  # one probe; it expires if never reported
        return True

    async def success(self, key: str) -> None:
        self._state.pop(key, None)

    async def failure(self, key: str, *, hold: float | None = None) -> None:
        entry, now = self._get(key), self.clock()
        if hold:
            # A probe that met the hold is over: the next caller after the hold probes again.
            entry.held_until, entry.probe_until = max(entry.held_until, now + hold), 0.0
            return
        if entry.open_until:  # the half-open probe (or a straggler) failed: open again
            entry.open_until, entry.probe_until = now + self.settings.cooldown_seconds, 0.0
            return
        entry.failures.append(now)
        while entry.failures and entry.failures[0] <= now - self.settings.window_seconds:
            entry.failures.popleft()
        if len(entry.failures) >= self.settings.failure_threshold:
            entry.open_until = now + self.settings.cooldown_seconds
            entry.failures.clear()

    async def held(self, key: str) -> float:
        entry = self._state.get(key)
        return max(0.0, entry.held_until - self.clock()) if entry is not None else 0.0

    async def states(self, keys: Iterable[str]) -> dict[str, BreakerState]:
        now = self.clock()
        return {key: _state_of(self._state.get(key), now) for key in keys}

    async def aclose(self) -> None:
        return None


def _state_of(entry: _Memory | None, now: float) -> BreakerState:
    if entry is not None and now < entry.held_until:
        return BreakerState.OPEN
    if entry is None or not entry.open_until:
        return BreakerState.CLOSED
    return BreakerState.OPEN if now < entry.open_until else BreakerState.HALF_OPEN


# Atomic so concurrent proxy processes agree on when a breaker trips. KEYS: failures zset, open-until, probe,
# held-until (a Retry-After hold, expiring on its own).
_FAILURE = """
local now, window, threshold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cooldown, hold = tonumber(ARGV[4]), tonumber(ARGV[5])
if hold > 0 then
  local held_until = tonumber(redis.call('GET', KEYS[4]) or '0')
  if now + hold > held_until then redis.call('SET', KEYS[4], now + hold, 'EX', math.ceil(hold) + 1) end
  redis.call('DEL', KEYS[3])
  return 1
end
local open_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if open_until > 0 then
  redis.call('SET', KEYS[2], now + cooldown)
  redis.call('DEL', KEYS[3])
  return 1
end
redis.call('ZADD', KEYS[1], now, ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
if redis.call('ZCARD', KEYS[1]) >= threshold then
  redis.call('SET', KEYS[2], now + cooldown)
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class RedisBreakers:
    """Breakers shared by every proxy process through Redis; wall-clock time, since processes share no clock.

    Redis trouble never fails a request: the breaker then allows and forgets (fail-open), and says so in the log.
    """

    def __init__(self, settings: BreakerSettings, *, prefix: str = "legion:proxy:breaker",
                 clock: Callable[[], float] = time.time) -> None:
        import redis.asyncio

        assert settings.redis_url, "the redis breaker store needs redis.url"
        self.settings = settings
        self.clock = clock
        self.prefix = prefix
        self.redis: Any = redis.asyncio.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._failure = self.redis.register_script(_FAILURE)

    def _keys(self, key: str) -> tuple[str, str, str, str]:
        base = f"{self.prefix}:{key}"
        return f"{base}:failures", f"{base}:open", f"{base}:probe", f"{base}:held"

    async def allow(self, key: str) -> bool:
        _, open_key, probe_key, held_key = self._keys(key)
        try:
            open_until, held_until = await self.redis.mget(open_key, held_key)
            now = self.clock()
            if held_until is not None and now < float(held_until):
                return False
            if open_until is None:
                return True
            if now < float(open_until):
                return False
            ttl_ms = max(1, int(self.settings.cooldown_seconds * 1000))
            return bool(await self.redis.set(probe_key, "1", nx=True, px=ttl_ms))
        except Exception as exc:  # noqa: BLE001 - any Redis failure means "no breaker information"
            log.warning("breaker store unavailable, allowing %s: %r", key, exc)
            return True

    async def success(self, key: str) -> None:
        try:
            await self.redis.delete(*self._keys(key))
        except Exception as exc:  # noqa: BLE001
            log.warning("breaker store unavailable, success of %s not recorded: %r", key, exc)

    async def failure(self, key: str, *, hold: float | None = None) -> None:
        s = self.settings
        try:
            await self._failure(keys=self._keys(key), args=[
                self.clock(), s.window_seconds, s.failure_threshold, s.cooldown_seconds, hold or 0, uuid.uuid4().hex,
            ])
        except Exception as exc:  # noqa: BLE001
            log.warning("breaker store unavailable, failure of %s not recorded: %r", key, exc)

    async def held(self, key: str) -> float:
        try:
            held_until = await self.redis.get(self._keys(key)[3])
        except Exception as exc:  # noqa: BLE001
            log.warning("breaker store unavailable: %r", exc)
            return 0.0
        return max(0.0, float(held_until) - self.clock()) if held_until is not None else 0.0

    async def states(self, keys: Iterable[str]) -> dict[str, BreakerState]:
        keys = list(keys)
        try:
            values = await self.redis.mget([k for key in keys for k in self._keys(key)[1::2]]) if keys else []
        except Exception as exc:  # noqa: BLE001
            log.warning("breaker store unavailable: %r", exc)
            return {}
        now = self.clock()
        return {
            key: BreakerState.OPEN if held is not None and now < float(held) else
            BreakerState.CLOSED if opened is None else
            BreakerState.OPEN if now < float(opened) else BreakerState.HALF_OPEN
            for key, opened, held in zip(keys, values[::2], values[1::2], strict=True)
        }

    async def aclose(self) -> None:
        await self.redis.aclose()


def breakers_build(settings: BreakerSettings) -> Breakers:
    return RedisBreakers(settings) if settings.store == "redis" else MemoryBreakers(settings)

"""A lease in Redis: `SET key holder NX PX ttl`; renewal and release only when the key still names us."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "legion:lease:"

# Compare-and-extend and compare-and-delete must be atomic: between a GET and a PEXPIRE/DEL the lease
# may expire and be taken by another holder, whom a plain DEL would then evict.
RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


@dataclass
class RedisLease:
    name: str
    holder: str
    ttl_ms: int
    url: str
    _client: Any = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return KEY_PREFIX + self.name

    def acquire(self) -> bool:
        try:
            if self._redis().set(self.key, self.holder, nx=True, px=self.ttl_ms):
                return True
            return self.renew()  # we may hold it already (a renewal that came late)
        except redis.RedisError as exc:
            logger.warning("lease %s: Redis unavailable (%s); not leading", self.name, exc)
            return False

    def renew(self) -> bool:
        try:
            return bool(self._redis().eval(RENEW, 1, self.key, self.holder, self.ttl_ms))
        except redis.RedisError as exc:
            # Cannot prove we still hold it: behave as if lost; another holder may take over after the ttl.
            logger.warning("lease %s: renewal failed (%s)", self.name, exc)
            return False

    def release(self) -> None:
        try:
            self._redis().eval(RELEASE, 1, self.key, self.holder)
        except redis.RedisError as exc:
            logger.warning("lease %s: release failed (%s); it expires in at most %d ms", self.name, exc, self.ttl_ms)

    def current_holder(self) -> str | None:
        value = self._redis().get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def _redis(self) -> Any:
        if self._client is None:
            # Short socket timeouts: a hung Redis must not hold up a beat tick longer than a renewal period.
            timeout = max(0.2, min(2.0, self.ttl_ms / 6000))
            self._client = redis.Redis.from_url(self.url, socket_timeout=timeout, socket_connect_timeout=timeout)
        return self._client

"""Leader leases on real Redis and PostgreSQL, and the file lock: one holder at a time, lost when it dies."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from apps.core.leases import Lease, holder_id, lease_backend
from apps.core.leases.file_lease import FileLease
from apps.core.leases.postgres_lease import PostgresLease
from apps.core.leases.redis_lease import RedisLease

LeaseFactory = Callable[[str, int], Lease]


@pytest.fixture(params=["redis", "postgres", "file"])
def make_lease(request: pytest.FixtureRequest, tmp_path: Path) -> LeaseFactory:
    """Leases on one backend; each call is another would-be holder (as another process would be)."""
    if request.param == "postgres":
        request.getfixturevalue("db")

    def make(name: str, ttl_ms: int = 5000) -> Lease:
        holder = holder_id()
        if request.param == "redis":
            return RedisLease(name=name, holder=holder, ttl_ms=ttl_ms, url=settings.CONFIG["redis.url"])
        if request.param == "postgres":
            return PostgresLease(name=name, holder=holder, ttl_ms=ttl_ms)
        return FileLease(name=name, holder=holder, ttl_ms=ttl_ms, directory=tmp_path)

    return make


def test_one_holder_at_a_time_until_it_lets_go(make_lease: LeaseFactory) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    first, second = make_lease(name, 5000), make_lease(name, 5000)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert first.renew() and first.acquire()  # holding it already counts
        second.release()  # letting go of what it does not hold frees nothing
        assert not second.acquire()
        first.release()
        assert not first.renew()
        assert second.acquire()
    finally:
        first.release()
        second.release()


def test_a_redis_lease_expires_when_its_holder_stops_renewing(db: None) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    url = settings.CONFIG["redis.url"]
    gone = RedisLease(name=name, holder="dead-node", ttl_ms=300, url=url)
    alive = RedisLease(name=name, holder="live-node", ttl_ms=300, url=url)
    assert gone.acquire()
    assert not alive.acquire()
    time.sleep(0.45)  # the 300 ms ttl passes unrenewed
    assert alive.acquire()
    assert not gone.renew()  # compare-and-extend: it cannot take back what another now holds
    gone.release()  # compare-and-delete: nor free it
    assert alive.current_holder() == "live-node"
    alive.release()


def test_a_postgres_lease_is_freed_when_its_connection_dies(db: None) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    holder, waiting = PostgresLease(name=name, holder="a", ttl_ms=1000), PostgresLease(name=name, holder="b",
                                                                                           ttl_ms=1000)
    assert holder.acquire()
    assert not waiting.acquire()
    holder._connection.close()  # the holding process died: PostgreSQL drops its session locks
    assert not holder.renew()
    assert waiting.acquire()
    waiting.release()


def test_a_redis_lease_without_redis_is_not_held(db: None) -> None:
    lease = RedisLease(name="x", holder="a", ttl_ms=1000, url="redis://127.0.0.1:1/0")
    assert not lease.acquire()
    assert not lease.renew()


def test_auto_picks_redis_when_configured_else_postgres(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert lease_backend() == "redis"
    monkeypatch.setitem(settings.CONFIG.values, "redis.url", None)
    assert lease_backend() == "postgres"
    monkeypatch.setitem(settings.CONFIG.values, "leases.backend", "file")
    assert lease_backend() == "file"

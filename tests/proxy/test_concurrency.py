"""Per-provider concurrency limits: leases in memory or shared through Redis, honoured by the attempt loop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from django.conf import settings

from proxy.attempts import SKIPPED_BUSY, Escalation, RequestContext
from proxy.concurrency import MemoryLimiter, RedisLimiter
from proxy.config import LimitSettings, ProxySettings
from proxy.errors import ErrorKind
from proxy.router.candidates import Lane, Lineup, Pins
from proxy.runtime import Runtime, runtime_build
from tests.proxy.conftest import ANY_MODEL, FAST, model_spec, provider_spec

pytestmark = pytest.mark.anyio


def redis_limits(lease_seconds: float = 15.0) -> LimitSettings:
    return LimitSettings(store="redis", lease_seconds=lease_seconds, redis_url=settings.CONFIG["redis.url"])


async def test_memory_leases_stop_at_the_limit_and_come_back_on_release() -> None:
    limiter = MemoryLimiter()
    first = await limiter.acquire("p", 1)

    assert first is not None and await limiter.acquire("p", 1) is None
    limiter.release("p", first)
    assert await limiter.acquire("p", 1) is not None


async def test_two_processes_share_a_redis_limit() -> None:
    key = f"shared-{uuid.uuid4().hex}"
    a, b = RedisLimiter(redis_limits()), RedisLimiter(redis_limits())
    try:
        lease = await a.acquire(key, 1)

        assert lease is not None and await b.acquire(key, 1) is None
        assert (await b.in_use([key]))[key] == 1
        a.release(key, lease)
        await asyncio.gather(*a._tasks)  # the release, sent in the background, has reached Redis
        assert await b.acquire(key, 1) is not None
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_dead_proxys_leases_expire() -> None:
    key = f"dead-{uuid.uuid4().hex}"
    dead, alive = RedisLimiter(redis_limits(lease_seconds=1)), RedisLimiter(redis_limits(lease_seconds=1))
    try:
        assert await dead.acquire(key, 1) is not None
        assert dead._renewer is not None
        dead._renewer.cancel()  # the process died: nobody renews or releases its lease

        assert await alive.acquire(key, 1) is None
        await asyncio.sleep(1.2)  # the unrenewed 1 s lease expires
        assert await alive.acquire(key, 1) is not None
    finally:
        await dead.aclose()
        await alive.aclose()


async def test_held_leases_are_renewed_while_the_request_runs() -> None:
    key = f"renewed-{uuid.uuid4().hex}"
    holder, other = RedisLimiter(redis_limits(lease_seconds=1)), RedisLimiter(redis_limits(lease_seconds=1))
    try:
        assert await holder.acquire(key, 1) is not None
        await asyncio.sleep(1.5)  # longer than a lease: only renewals keep it
        assert await other.acquire(key, 1) is None
    finally:
        await holder.aclose()
        await other.aclose()


@pytest.fixture
async def two_runtimes() -> AsyncIterator[tuple[Runtime, Runtime, Lineup]]:
    """Two proxy runtimes (as two processes would build them) over one lineup, sharing limits through Redis."""
    suffix = uuid.uuid4().hex[:8]
    proxy_settings = ProxySettings(
        providers=(provider_spec(f"busy-{suffix}", "ollama", "http://127.0.0.1:9", model_spec("m"), concurrency=1),
                   provider_spec(f"spare-{suffix}", "openai_compatible", "http://127.0.0.1:9/v1",
                                 model_spec("m", price_in=5), tier="cloud")),
        deadlines=FAST, limits=redis_limits())
    a, b = runtime_build(proxy_settings), runtime_build(proxy_settings)
    try:
        yield a, b, a.lineup
    finally:
        await a.aclose()
        await b.aclose()


def escalation(runtime: Runtime, lanes: list[Lane]) -> Escalation:
    ctx = RequestContext.start(runtime, caller=ANY_MODEL, pins=Pins(), endpoint="chat", dialect="openai")
    return Escalation(ctx, lanes)


async def test_a_provider_at_its_shared_limit_is_skipped_for_the_next_candidate(
        two_runtimes: tuple[Runtime, Runtime, Lineup]) -> None:
    a, b, lineup = two_runtimes
    lanes = sorted(lineup.resolve("m"), key=lambda lane: lane.rank)
    holding = escalation(a, lanes)
    assert (await holding.next()) is lanes[0]

    other = escalation(b, lanes)

    assert (await other.next()) is lanes[1]
    assert other.ctx.event.attempts[0].outcome == SKIPPED_BUSY
    other.ctx.finish()
    holding.ctx.finish()


async def test_the_last_busy_candidate_is_waited_for_briefly(two_runtimes: tuple[Runtime, Runtime, Lineup]) -> None:
    a, b, lineup = two_runtimes
    busy = [lane for lane in lineup.lanes if lane.provider.concurrency == 1]
    holding = escalation(a, busy)
    assert await holding.next() is busy[0]
    asyncio.get_running_loop().call_later(0.3, holding.ctx.finish)  # that request ends; its lease is released

    assert await escalation(b, busy).next() is busy[0]


async def test_a_candidate_busy_past_the_connect_deadline_answers_overloaded(
        two_runtimes: tuple[Runtime, Runtime, Lineup]) -> None:
    a, b, lineup = two_runtimes
    busy = [lane for lane in lineup.lanes if lane.provider.concurrency == 1]
    holding = escalation(a, busy)
    assert await holding.next() is busy[0]
    waiting = escalation(b, busy)

    assert await waiting.next() is None
    error = waiting.exhausted()
    assert error.kind is ErrorKind.OVERLOADED and error.retry_after
    holding.ctx.finish()

"""Circuit breakers behave the same in memory (lite) and in Redis (full, shared between processes)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from django.conf import settings

from proxy.breakers import Breakers, BreakerState, MemoryBreakers, RedisBreakers
from proxy.config import BreakerSettings

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]
SETTINGS = BreakerSettings(failure_threshold=3, window_seconds=60, cooldown_seconds=30,
                           redis_url=settings.CONFIG["redis.url"])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def breakers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Breakers, Clock]]:
    clock = Clock()
    if request.param == "memory":
        yield MemoryBreakers(SETTINGS, clock=clock), clock
        return
    store = RedisBreakers(SETTINGS, prefix=f"legion:test:breaker:{uuid.uuid4().hex}", clock=clock)
    try:
        yield store, clock
    finally:
        keys = [key async for key in store.redis.scan_iter(f"{store.prefix}:*")]
        if keys:
            await store.redis.delete(*keys)
        await store.aclose()


async def test_opens_after_threshold_failures_within_the_window(breakers: tuple[Breakers, Clock]) -> None:
    store, clock = breakers
    for _ in range(2):
        await store.failure("p")
    assert await store.allow("p")
    await store.failure("p")
    assert not await store.allow("p")
    assert (await store.states(["p"]))["p"] is BreakerState.OPEN


async def test_failures_outside_the_window_do_not_count(breakers: tuple[Breakers, Clock]) -> None:
    store, clock = breakers
    await store.failure("p")
    await store.failure("p")
    clock.now += 61
    await store.failure("p")
    assert await store.allow("p")


async def test_half_open_lets_exactly_one_probe_through(breakers: tuple[Breakers, Clock]) -> None:
    store, clock = breakers
    for _ in range(3):
        await store.failure("p")
    clock.now += 31
    assert (await store.states(["p"]))["p"] is BreakerState.HALF_OPEN
    assert await store.allow("p")
    assert not await store.allow("p")  # a second caller waits while the probe is out


async def test_probe_success_closes_and_probe_failure_reopens(breakers: tuple[Breakers, Clock]) -> None:
    store, clock = breakers
    for key in ("good", "bad"):
        for _ in range(3):
            await store.failure(key)
    clock.now += 31
    assert await store.allow("good") and await store.allow("bad")
    await store.success("good")
    await store.failure("bad")
    states = await store.states(["good", "bad"])
    assert states == {"good": BreakerState.CLOSED, "bad": BreakerState.OPEN}
    clock.now += 29
    assert not await store.allow("bad")


async def test_retry_after_holds_the_breaker_open_for_that_long_then_for_no_one(
        breakers: tuple[Breakers, Clock]) -> None:
    store, clock = breakers
    await store.failure("p", hold=5)
    assert not await store.allow("p")
    assert (await store.states(["p"]))["p"] is BreakerState.OPEN
    clock.now += 5.5
    assert await store.allow("p") and await store.allow("p")  # no half-open probe locking the others out
    assert (await store.states(["p"]))["p"] is BreakerState.CLOSED


async def test_a_hold_says_how_long_it_has_left(breakers: tuple[Breakers, Clock]) -> None:
    store, clock = breakers
    for _ in range(3):
        await store.failure("opened")
    await store.failure("p", hold=5)
    clock.now += 2
    assert await store.held("p") == pytest.approx(3) and await store.held("opened") == 0.0
    clock.now += 3.5
    assert await store.held("p") == 0.0


async def test_a_hold_does_not_close_a_breaker_opened_by_failures(breakers: tuple[Breakers, Clock]) -> None:
    store, clock = breakers
    for _ in range(3):
        await store.failure("p")
    await store.failure("p", hold=2)
    clock.now += 2.5
    assert not await store.allow("p")  # still within the cooldown of the failures


async def test_breakers_are_independent_per_provider(breakers: tuple[Breakers, Clock]) -> None:
    store, _ = breakers
    for _ in range(3):
        await store.failure("a")
    assert await store.allow("b") and not await store.allow("a")


async def test_redis_state_is_shared_between_processes() -> None:
    prefix = f"legion:test:breaker:{uuid.uuid4().hex}"
    first, second = RedisBreakers(SETTINGS, prefix=prefix), RedisBreakers(SETTINGS, prefix=prefix)
    try:
        for _ in range(3):
            await first.failure("p")
        assert not await second.allow("p")
        await second.success("p")
        assert await first.allow("p")
    finally:
        await first.aclose()
        await second.aclose()


async def test_an_unreachable_redis_fails_open() -> None:
    store = RedisBreakers(BreakerSettings(redis_url="redis://127.0.0.1:1/0"))
    try:
        await store.failure("p")
        assert await store.allow("p")
    finally:
        await store.aclose()

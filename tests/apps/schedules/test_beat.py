"""The beat scheduler: only the lease holder sends, a standby takes over, and exact ticks after a gap."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from apps.core.leases.redis_lease import KEY_PREFIX
from apps.schedules.beat import LegionScheduler, TickSchedule
from apps.schedules.models import Schedule
from apps.schedules.ticks import IntervalTicks
from tests.apps.schedules.conftest import T0

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def beat_lease(config: Callable[[str, Any], None]) -> Iterator[None]:
    """A short beat lease, free at the start and at the end."""
    config("schedules.lease_ttl_ms", 1500)
    client = redis.Redis.from_url(settings.CONFIG["redis.url"])
    client.delete(KEY_PREFIX + "beat")
    yield
    client.delete(KEY_PREFIX + "beat")


def scheduler() -> LegionScheduler:
    from legion_site.celery import app

    return LegionScheduler(app=app)


def test_only_the_beat_holding_the_lease_sends_and_another_takes_over(
    make_schedule: Callable[..., Schedule], beat_lease: None
) -> None:
    schedule = make_schedule(interval_seconds=1, last_tick_at=timezone.now() - timedelta(seconds=3), catch_up="all")
    first, second = scheduler(), scheduler()
    for _ in range(3):
        first.tick()
        second.tick()
    assert first.leading and not second.leading
    assert set(schedule.fires.values_list("dispatched_by", flat=True)) == {first.lease.holder}
    sent = schedule.fires.count()
    assert sent >= 3

    first.close()  # releases the lease: the standby needs no ttl to take over
    second.tick()
    assert second.leading
    assert schedule.fires.count() >= sent
    second.close()


def test_a_tick_schedule_is_due_at_its_next_tick_after_the_last_dealt_with() -> None:
    ticks = TickSchedule(1, IntervalTicks(seconds=60, anchor=T0), last_tick=T0)
    due, _ = ticks.is_due(T0)
    assert due  # T0 + 60s is long past
    ticks.last_tick = timezone.now()
    due, wait = ticks.is_due(T0)
    assert not due and 0 < wait <= 60

"""Beat's side: every tick since the last is sent or recorded as skipped, by the schedule's catch-up policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from apps.schedules.firing import schedule_dispatch
from apps.schedules.models import FireStatus, Schedule, ScheduleFire
from tests.apps.schedules.conftest import T0
from tests.support import free_port, received

pytestmark = pytest.mark.django_db


def minutes(*values: int) -> list[Any]:
    return [T0 + timedelta(minutes=value) for value in values]


def fires(schedule: Schedule) -> list[tuple[Any, str, int]]:
    return [(fire.tick, fire.status, fire.count) for fire in schedule.fires.order_by("tick")]


def test_a_due_tick_is_sent_once_through_the_publisher(
    make_schedule: Callable[..., Schedule], queue: str, django_capture_on_commit_callbacks: Any
) -> None:
    schedule = make_schedule()
    with django_capture_on_commit_callbacks(execute=True):
        last = schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(seconds=61), dispatched_by="beat-a")
    with django_capture_on_commit_callbacks(execute=True):
        schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(seconds=62), dispatched_by="beat-b")

    assert last == T0 + timedelta(minutes=1)
    assert fires(schedule) == [(T0 + timedelta(minutes=1), FireStatus.DISPATCHED, 1)]
    assert schedule.fires.get().dispatched_by == "beat-a"
    assert received(queue, 1) == [[schedule.pk, (T0 + timedelta(minutes=1)).isoformat()]]


def test_nothing_is_sent_before_the_next_tick(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule()
    assert schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(seconds=59)) == T0
    assert not ScheduleFire.objects.exists()


def test_catch_up_skip_records_missed_ticks_as_one_skipped_span(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(catch_up="skip")
    schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(minutes=10))
    assert fires(schedule) == [(minutes(1)[0], FireStatus.SKIPPED, 9), (minutes(10)[0], FireStatus.DISPATCHED, 1)]
    span = schedule.fires.get(status=FireStatus.SKIPPED)
    assert span.until == minutes(9)[0]
    schedule.refresh_from_db()
    assert schedule.last_tick_at == minutes(10)[0]


def test_catch_up_once_sends_the_newest_missed_tick(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(catch_up="once")
    schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(minutes=10))
    assert fires(schedule) == [(minutes(1)[0], FireStatus.SKIPPED, 8), (minutes(9)[0], FireStatus.DISPATCHED, 1),
                               (minutes(10)[0], FireStatus.DISPATCHED, 1)]


def test_catch_up_all_sends_every_missed_tick(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(catch_up="all")
    schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(minutes=10))
    assert fires(schedule) == [(tick, FireStatus.DISPATCHED, 1) for tick in minutes(*range(1, 11))]


def test_catch_up_all_is_bounded_and_says_what_it_left_out(
    make_schedule: Callable[..., Schedule], config: Callable[[str, Any], None]
) -> None:
    config("schedules.max_catch_up", 3)
    schedule = make_schedule(catch_up="all")
    schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(minutes=10))
    assert fires(schedule) == [(minutes(1)[0], FireStatus.SKIPPED, 6),
                               *[(tick, FireStatus.DISPATCHED, 1) for tick in minutes(7, 8, 9, 10)]]
    assert schedule.fires.get(status=FireStatus.SKIPPED).reason == "over schedules.max_catch_up"


def test_ticks_within_the_grace_are_on_time_whatever_the_policy(
    make_schedule: Callable[..., Schedule], config: Callable[[str, Any], None]
) -> None:
    config("schedules.misfire_grace_seconds", 150)
    schedule = make_schedule(catch_up="skip")
    schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(minutes=5))
    assert fires(schedule) == [(minutes(1)[0], FireStatus.SKIPPED, 2),
                               *[(tick, FireStatus.DISPATCHED, 1) for tick in minutes(3, 4, 5)]]


def test_a_cron_schedule_catches_up_in_its_time_zone(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(cron="0 13 * * *", timezone_name="Europe/Paris", catch_up="once")
    schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(days=3, hours=2))
    # 13:00 in Paris in March is 12:00 UTC: three days missed, the newest sent, two skipped.
    assert fires(schedule) == [(T0 + timedelta(days=1), FireStatus.SKIPPED, 2),
                               (T0 + timedelta(days=3), FireStatus.DISPATCHED, 1)]


def test_a_disabled_schedule_sends_nothing(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(enabled=False)
    assert schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(minutes=5)) is None
    assert not ScheduleFire.objects.exists()


def test_fires_during_a_broker_outage_wait_in_the_spool(
    make_schedule: Callable[..., Schedule], settings: Any, queue: str, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.core.spool.publisher import publisher

    broker = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{free_port()}//"
    publisher.cache_clear()
    schedule = make_schedule(catch_up="all")
    with django_capture_on_commit_callbacks(execute=True):
        schedule_dispatch(schedule_id=schedule.pk, now=T0 + timedelta(minutes=3))
    assert publisher().spool.depth().messages == 3

    settings.CELERY_BROKER_URL = broker
    spool_dir = publisher().spool.directory
    publisher.cache_clear()
    assert publisher().spool.directory == spool_dir
    assert publisher().drain() == 3
    assert received(queue, 3) == [[schedule.pk, tick.isoformat()] for tick in minutes(1, 2, 3)]

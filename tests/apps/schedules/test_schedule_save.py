"""Creating and updating schedules: checked first, saved with their django-celery-beat entry, new timings from now."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_celery_beat.models import PeriodicTask

from apps.chains.services.callers import HOST
from apps.core.errors import ApplicationError
from apps.schedules.models import Schedule
from apps.schedules.services import FIRE_TASK, schedule_create, schedule_delete, schedule_set_enabled, schedule_update
from apps.schedules.ticks import CronTicks
from tests.apps.jobs import function
from tests.apps.schedules.conftest import T0

pytestmark = pytest.mark.django_db


def test_a_schedule_is_a_beat_entry_firing_the_legion_task(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule("nightly", cron="0 3 * * *", timezone_name="America/New_York")
    entry = PeriodicTask.objects.get(name="legion:nightly")
    assert (entry.task, entry.args, entry.enabled) == (FIRE_TASK, f"[{schedule.pk}]", True)
    crontab = entry.crontab
    assert crontab is not None
    assert (crontab.minute, crontab.hour, str(crontab.timezone)) == ("0", "3", "America/New_York")


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"cron": "0 99 * * *", "interval_seconds": None}, "invalid_cron", "cron"),
    ({"cron": "0 3 * * *", "interval_seconds": None, "timezone_name": "Nowhere/City"}, "invalid_timezone",
     "timezone"),
    ({"cron": "0 3 * * *"}, "invalid_schedule", "cron"),
    ({"interval_seconds": 0}, "invalid_schedule", "cron"),
    ({"catch_up": "sometimes"}, "invalid", "catch_up"),
    ({"function": None}, "invalid_target", "function"),
    ({"payload": ["not", "an", "object"]}, "invalid", "payload"),
])
def test_a_bad_schedule_is_refused_naming_the_field(
    registry: None, changes: dict[str, Any], code: str, field: str
) -> None:
    values: dict[str, Any] = {"interval_seconds": 60, "function": function("core.basic.log"), **changes}
    with pytest.raises(ApplicationError) as caught:
        schedule_create(by=HOST, name="bad", **values)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert not PeriodicTask.objects.filter(name="legion:bad").exists()


def test_a_new_timing_counts_from_now_and_does_not_catch_up(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule()
    assert schedule.last_tick_at == T0
    saved = schedule_update(by=HOST, schedule=schedule, cron="*/5 * * * *")
    assert saved.last_tick_at is not None and saved.last_tick_at > T0
    assert saved.periodic_task.interval is None and saved.periodic_task.crontab is not None


def test_switching_a_schedule_off_leaves_its_timing_alone(
    make_schedule: Callable[..., Schedule], monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule = make_schedule(cron="0 3 * * *", timezone_name="Europe/Paris")
    crontab_id = schedule.periodic_task.crontab_id

    def unexpected(*args: Any) -> None:
        raise AssertionError("the cron expression was parsed again")

    monkeypatch.setattr(CronTicks, "parse", unexpected)
    saved = schedule_update(by=HOST, schedule=schedule, enabled=False)
    entry = PeriodicTask.objects.get(pk=saved.periodic_task_id)
    assert (entry.enabled, entry.crontab_id, saved.last_tick_at) == (False, crontab_id, T0)


def test_a_new_time_zone_is_checked_and_moves_the_beat_entry(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(cron="0 3 * * *")
    with pytest.raises(ApplicationError) as caught:
        schedule_update(by=HOST, schedule=schedule, timezone_name="Nowhere/City")
    assert (caught.value.code, caught.value.field) == ("invalid_timezone", "timezone")
    saved = schedule_update(by=HOST, schedule=Schedule.objects.get(pk=schedule.pk), timezone_name="Europe/Paris")
    crontab = PeriodicTask.objects.get(pk=saved.periodic_task_id).crontab
    assert crontab is not None and (crontab.hour, str(crontab.timezone)) == ("3", "Europe/Paris")
    assert saved.last_tick_at is not None and saved.last_tick_at > T0


def test_enabling_counts_from_now(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(enabled=False)
    enabled = schedule_set_enabled(schedule=schedule, enabled=True)
    assert enabled.enabled and enabled.periodic_task.enabled
    assert enabled.last_tick_at is not None and enabled.last_tick_at > T0


def test_deleting_a_schedule_removes_its_beat_entry(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule()
    schedule_delete(schedule=schedule)
    assert not PeriodicTask.objects.filter(name__startswith="legion:").exists()


def test_names_are_unique(make_schedule: Callable[..., Schedule]) -> None:
    make_schedule("twice")
    with pytest.raises(ApplicationError) as caught:
        make_schedule("twice")
    assert (caught.value.code, caught.value.status) == ("duplicate", 409)

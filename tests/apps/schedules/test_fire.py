"""A worker's side: one tick starts one run; a fire delivered late follows the catch-up policy again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from apps.chains.models import TaskRun
from apps.chains.services.chains import chain_create
from apps.schedules.firing import schedule_dispatch, schedule_fire
from apps.schedules.models import FireStatus, Schedule, ScheduleFire
from tests.apps.jobs import drive, link
from tests.apps.schedules.conftest import T0

pytestmark = pytest.mark.django_db

TICK = T0 + timedelta(minutes=1)


def dispatched(schedule: Schedule, *ticks: Any) -> None:
    for tick in ticks:
        ScheduleFire.objects.create(schedule=schedule, tick=tick)


def test_a_tick_starts_one_run_however_often_it_arrives(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule()
    schedule_dispatch(schedule_id=schedule.pk, now=TICK)
    assert schedule_fire(schedule_id=schedule.pk, tick=TICK, now=TICK + timedelta(seconds=1)) == "started"
    assert schedule_fire(schedule_id=schedule.pk, tick=TICK, now=TICK + timedelta(seconds=2)) == "finished_already"

    fire = schedule.fires.get()
    run = TaskRun.objects.get()
    assert (fire.status, fire.run) == (FireStatus.STARTED, run)
    assert (run.function.qualified_name, run.payload, run.triggered_by, run.principal) == (
        "core.basic.log", {"message": "tick"}, "schedule", "ops")
    assert run.idempotency_key == f"schedule:{schedule.pk}:{TICK.isoformat()}"
    assert drive() == ["succeeded"]


def test_a_schedule_can_start_a_chain(make_schedule: Callable[..., Schedule], registry: None) -> None:
    chain = chain_create(name="nightly")
    link(chain, "core.basic.log", "core.basic.echo", transformation='{"data": {"said": result.message}}')
    schedule = make_schedule(function=None, chain=chain)
    dispatched(schedule, TICK)
    assert schedule_fire(schedule_id=schedule.pk, tick=TICK, now=TICK) == "started"
    drive()
    assert [run.result for run in TaskRun.objects.order_by("created_at")] == [
        {"message": "tick", "level": "info"}, {"said": "tick"}]


def test_a_late_fire_of_a_skip_schedule_is_skipped(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(catch_up="skip")
    dispatched(schedule, TICK)
    assert schedule_fire(schedule_id=schedule.pk, tick=TICK, now=TICK + timedelta(minutes=5)) == "skipped"
    fire = schedule.fires.get()
    assert fire.status == FireStatus.SKIPPED and "late" in fire.reason
    assert not TaskRun.objects.exists()


def test_late_fires_of_a_once_schedule_start_one_run(make_schedule: Callable[..., Schedule]) -> None:
    """The spool replays a whole outage's fires oldest first: the first starts, the rest are covered by it."""
    schedule = make_schedule(catch_up="once")
    ticks = [T0 + timedelta(minutes=n) for n in (1, 2, 3)]
    dispatched(schedule, *ticks)
    back = T0 + timedelta(minutes=10)
    outcomes = [schedule_fire(schedule_id=schedule.pk, tick=tick, now=back) for tick in ticks]
    assert outcomes == ["started", "skipped", "skipped"]
    assert TaskRun.objects.count() == 1


def test_late_fires_of_an_all_schedule_all_start(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(catch_up="all")
    ticks = [T0 + timedelta(minutes=n) for n in (1, 2, 3)]
    dispatched(schedule, *ticks)
    back = T0 + timedelta(minutes=10)
    assert [schedule_fire(schedule_id=schedule.pk, tick=tick, now=back) for tick in ticks] == ["started"] * 3
    assert TaskRun.objects.count() == 3


def test_a_schedule_without_a_principal_records_the_refusal(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule(run_as=None)
    dispatched(schedule, TICK)
    assert schedule_fire(schedule_id=schedule.pk, tick=TICK, now=TICK) == "failed"
    fire = schedule.fires.get()
    assert (fire.status, fire.error["code"]) == (FireStatus.FAILED, "permission_denied")
    assert not TaskRun.objects.exists()


def test_a_fire_for_a_schedule_disabled_since_is_skipped(make_schedule: Callable[..., Schedule]) -> None:
    schedule = make_schedule()
    dispatched(schedule, TICK)
    Schedule.objects.filter(pk=schedule.pk).update(enabled=False)
    assert schedule_fire(schedule_id=schedule.pk, tick=TICK, now=TICK) == "skipped"


def test_a_fire_for_a_deleted_schedule_changes_nothing(db: None) -> None:
    assert schedule_fire(schedule_id=999_999, tick=TICK) == "missing"


def test_a_fire_from_a_plain_celery_beat_settles_the_due_ticks(make_schedule: Callable[..., Schedule]) -> None:
    from django.utils import timezone

    from apps.schedules.tasks import schedule_fire_task

    schedule = make_schedule(last_tick_at=timezone.now() - timedelta(seconds=90))
    assert schedule_fire_task(schedule.pk) == "dispatched"
    assert schedule.fires.get().dispatched_by == "celery-beat"

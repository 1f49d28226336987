"""Schedule writes: a schedule and its django-celery-beat entry are saved together, checked first."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.chains.models import Chain
from apps.chains.services.callers import Caller, check_run_as
from apps.chains.targets import check_target
from apps.core.errors import ApplicationError
from apps.rbac.models import Principal
from apps.runners.models import Function
from apps.schedules.models import CatchUp, Schedule
from apps.schedules.ticks import CronTicks, IntervalTicks, Ticks

FIRE_TASK = "legion.schedules.fire"
ENTRY_PREFIX = "legion:"


def check_schedule(
    *, name: str, cron: str | None, interval_seconds: int | None, timezone_name: str, function: Function | None,
    chain: Chain | None, payload: Any, catch_up: str,
) -> Ticks | None:
    """Raise on a bad schedule (the field is named); returns the cron ticks when `cron` is given."""
    if not name or len(name) > 150:
        raise ApplicationError("invalid", "a schedule needs a name of at most 150 characters", field="name")
    if bool(cron) == bool(interval_seconds):
        raise ApplicationError("invalid_schedule", "give a cron expression or an interval (exactly one)",
                               field="cron")
    if catch_up not in CatchUp.values:
        raise ApplicationError("invalid", f"catch_up must be one of {', '.join(CatchUp.values)}", field="catch_up")
    check_target(function=function, chain=chain, payload=payload)
    if interval_seconds is not None and interval_seconds < 1:
        raise ApplicationError("invalid_schedule", "the interval is at least 1 second", field="interval_seconds")
    try:
        return CronTicks.parse(cron, timezone_name) if cron else None
    except ValueError as exc:
        field = "timezone" if "time zone" in str(exc) else "cron"
        raise ApplicationError(f"invalid_{field}", str(exc), field=field) from exc


@transaction.atomic
def schedule_save(
    *,
    by: Caller,
    name: str,
    schedule: Schedule | None = None,
    cron: str | None = None,
    interval_seconds: int | None = None,
    timezone_name: str = "UTC",
    function: Function | None = None,
    chain: Chain | None = None,
    payload: dict[str, Any] | None = None,
    catch_up: str = CatchUp.ONCE,
    run_as: Principal | None = None,
    enabled: bool = True,
    description: str = "",
) -> Schedule:
    """Create or update a schedule and its beat entry.

    `by` must be allowed to act as `run_as`, changed or not (`check_run_as`): the schedule decides what
    runs as it. A new timing (or enabling a disabled schedule) starts counting from now: ticks that belong to the
    old timing or to the time it was off are not caught up.
    """
    payload = {} if payload is None else payload
    cron_ticks = check_schedule(name=name, cron=cron, interval_seconds=interval_seconds, timezone_name=timezone_name,
                                function=function, chain=chain, payload=payload, catch_up=catch_up)
    check_run_as(by=by, run_as=run_as)
    same_name = Schedule.objects.filter(name=name)
    if (same_name.exclude(pk=schedule.pk) if schedule else same_name).exists():
        raise ApplicationError("duplicate", f"a schedule named '{name}' exists", field="name", status=409)
    now = timezone.now()
    crontab, interval = _timing(cron_ticks, interval_seconds)
    if schedule is None:
        entry = PeriodicTask.objects.create(name=ENTRY_PREFIX + name, task=FIRE_TASK, crontab=crontab,
                                            interval=interval, enabled=enabled)
        schedule = Schedule(periodic_task=entry, anchor_at=now, last_tick_at=now)
        restart = False
    else:
        entry = schedule.periodic_task
        restart = (entry.crontab_id, entry.interval_id) != (getattr(crontab, "pk", None), getattr(interval, "pk", None))
        restart = restart or (enabled and not schedule.enabled)
    if restart:
        schedule.anchor_at = schedule.last_tick_at = now
    for attribute, value in {"name": name, "description": description, "function": function, "chain": chain,
                             "payload": payload, "catch_up": catch_up, "run_as": run_as, "enabled": enabled}.items():
        setattr(schedule, attribute, value)
    schedule.save()
    # Saving the entry bumps django-celery-beat's change marker, so running beats reload it.
    entry.name, entry.crontab, entry.interval, entry.enabled = ENTRY_PREFIX + name, crontab, interval, enabled
    entry.args = json.dumps([schedule.pk])
    entry.description = f"Legion schedule '{name}' ({schedule.target})"
    entry.save()
    return schedule


@transaction.atomic
def schedule_set_enabled(*, schedule: Schedule, enabled: bool) -> Schedule:
    """Enabling starts from now: the ticks of the time it was off are not caught up.

    Switching a schedule on or off changes nothing about what it runs, so it needs no right over its `run_as`.
    """
    if enabled and not schedule.enabled:
        schedule.anchor_at = schedule.last_tick_at = timezone.now()
    schedule.enabled = enabled
    schedule.save()
    # Saving the entry bumps django-celery-beat's change marker, so running beats reload it.
    entry = schedule.periodic_task
    entry.enabled = enabled
    entry.save()
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: Schedule) -> None:
    """The schedule, its fires and its beat entry go; runs it started stay."""
    entry = schedule.periodic_task
    schedule.delete()
    entry.delete()


def schedule_timing(*, schedule: Schedule) -> dict[str, Any]:
    """The schedule's timing as `schedule_save` takes it: cron and time zone, or an interval."""
    entry = schedule.periodic_task
    if entry.crontab is not None:
        c = entry.crontab
        return {"cron": f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}",
                "timezone_name": str(c.timezone), "interval_seconds": None}
    if entry.interval is not None:
        seconds = int(timedelta(**{entry.interval.period: entry.interval.every}).total_seconds())
        return {"cron": None, "timezone_name": "UTC", "interval_seconds": seconds}
    raise ApplicationError("invalid_schedule", f"schedule '{schedule.name}' has neither a cron nor an interval")


def schedule_ticks(*, schedule: Schedule) -> Ticks:
    """When the schedule fires, read from its beat entry (which an admin may have edited directly)."""
    timing = schedule_timing(schedule=schedule)
    if timing["cron"]:
        return CronTicks.parse(timing["cron"], timing["timezone_name"])
    return IntervalTicks(seconds=timing["interval_seconds"], anchor=schedule.anchor_at)


def _timing(cron_ticks: Ticks | None, interval_seconds: int | None) -> tuple[CrontabSchedule | None,
                                                                             IntervalSchedule | None]:
    # Shared rows are looked up, never edited: another schedule may point at the same crontab.
    if isinstance(cron_ticks, CronTicks):
        minute, hour, day_of_month, month_of_year, day_of_week = cron_ticks.expression.split(" ")
        crontab = CrontabSchedule.objects.filter(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
            day_of_week=day_of_week, timezone=cron_ticks.timezone,
        ).first() or CrontabSchedule.objects.create(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
            day_of_week=day_of_week, timezone=cron_ticks.timezone,
        )
        return crontab, None
    assert interval_seconds is not None
    interval, _ = IntervalSchedule.objects.get_or_create(every=interval_seconds, period=IntervalSchedule.SECONDS)
    return None, interval

"""Schedule writes: a schedule and its django-celery-beat entry are saved together, checked first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypedDict, Unpack

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


@dataclass(frozen=True)
class Timing:
    """When a schedule fires: a cron expression read in a time zone, or an interval (exactly one)."""

    cron: str | None = None
    interval_seconds: int | None = None
    timezone_name: str = "UTC"


class ScheduleChanges(TypedDict, total=False):
    """What an update may change; a cron replaces the interval and an interval the cron."""

    name: str
    description: str
    cron: str | None
    interval_seconds: int | None
    timezone_name: str
    function: Function | None
    chain: Chain | None
    payload: dict[str, Any]
    catch_up: str
    run_as: Principal | None
    enabled: bool


TIMING_FIELDS = ("cron", "interval_seconds", "timezone_name")


def check_schedule(
    *, name: str, timing: Timing | None, function: Function | None, chain: Chain | None, payload: Any, catch_up: str,
) -> Ticks | None:
    """Raise on a bad schedule (the field is named); returns the cron ticks when the timing is a cron.

    `timing` None is a timing already saved: it was checked then and is not parsed again.
    """
    if not name or len(name) > 150:
        raise ApplicationError("invalid", "a schedule needs a name of at most 150 characters", field="name")
    if timing is not None and bool(timing.cron) == bool(timing.interval_seconds):
        raise ApplicationError("invalid_schedule", "give a cron expression or an interval (exactly one)",
                               field="cron")
    if catch_up not in CatchUp.values:
        raise ApplicationError("invalid", f"catch_up must be one of {', '.join(CatchUp.values)}", field="catch_up")
    check_target(function=function, chain=chain, payload=payload)
    if timing is None:
        return None
    if timing.interval_seconds is not None and timing.interval_seconds < 1:
        raise ApplicationError("invalid_schedule", "the interval is at least 1 second", field="interval_seconds")
    try:
        return CronTicks.parse(timing.cron, timing.timezone_name) if timing.cron else None
    except ValueError as exc:
        field = "timezone" if "time zone" in str(exc) else "cron"
        raise ApplicationError(f"invalid_{field}", str(exc), field=field) from exc


@transaction.atomic
def schedule_create(
    *,
    by: Caller,
    name: str,
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
    """Create a schedule and its beat entry, counting from now.

    `by` must be allowed to act as `run_as` (`check_run_as`): the schedule decides what runs as it.
    """
    payload = {} if payload is None else payload
    timing = Timing(cron=cron, interval_seconds=interval_seconds, timezone_name=timezone_name)
    cron_ticks = check_schedule(name=name, timing=timing, function=function, chain=chain, payload=payload,
                                catch_up=catch_up)
    check_run_as(by=by, run_as=run_as)
    _check_name_free(name=name, schedule=None)
    now = timezone.now()
    crontab, interval = _timing(cron_ticks, interval_seconds)
    entry = PeriodicTask.objects.create(name=ENTRY_PREFIX + name, task=FIRE_TASK, crontab=crontab, interval=interval,
                                        enabled=enabled)
    schedule = Schedule.objects.create(
        periodic_task=entry, anchor_at=now, last_tick_at=now, name=name, description=description, function=function,
        chain=chain, payload=payload, catch_up=catch_up, run_as=run_as, enabled=enabled,
    )
    # The entry names the schedule's row, which exists only now.
    entry.args = json.dumps([schedule.pk])
    _entry_describe(entry, schedule)
    entry.save()
    return schedule


@transaction.atomic
def schedule_update(*, by: Caller, schedule: Schedule, **changes: Unpack[ScheduleChanges]) -> Schedule:
    """Apply `changes` to a schedule and its beat entry; a timing left alone is not parsed or looked up again.

    `by` must be allowed to act as `run_as`, changed or not (`check_run_as`): the schedule decides what
    runs as it. A new timing (or enabling a disabled schedule) starts counting from now: ticks that belong
    to the old timing or to the time it was off are not caught up.
    """
    timing = _timing_changed(schedule, changes)
    name = changes.get("name", schedule.name)
    cron_ticks = check_schedule(
        name=name, timing=timing, function=changes.get("function", schedule.function),
        chain=changes.get("chain", schedule.chain), payload=changes.get("payload", schedule.payload),
        catch_up=changes.get("catch_up", schedule.catch_up),
    )
    check_run_as(by=by, run_as=changes.get("run_as", schedule.run_as))
    if "name" in changes:
        _check_name_free(name=name, schedule=schedule)
    entry = schedule.periodic_task
    before = _entry_state(entry)
    restart = False
    if timing is not None:
        crontab, interval = _timing(cron_ticks, timing.interval_seconds)
        restart = (entry.crontab_id, entry.interval_id) != (getattr(crontab, "pk", None), getattr(interval, "pk", None))
        entry.crontab, entry.interval = crontab, interval
    restart = restart or (changes.get("enabled", False) and not schedule.enabled)
    if restart:
        schedule.anchor_at = schedule.last_tick_at = timezone.now()
    for attribute, value in changes.items():
        if attribute not in TIMING_FIELDS:  # the timing lives in the beat entry
            setattr(schedule, attribute, value)
    schedule.save()
    entry.name, entry.enabled = ENTRY_PREFIX + schedule.name, schedule.enabled
    _entry_describe(entry, schedule)
    if _entry_state(entry) != before:
        # Saving the entry bumps django-celery-beat's change marker, so running beats reload it.
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


def schedule_timing(*, schedule: Schedule) -> Timing:
    """The schedule's timing, read from its beat entry (which an admin may have edited directly)."""
    entry = schedule.periodic_task
    if entry.crontab is not None:
        c = entry.crontab
        return Timing(cron=f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}",
                      timezone_name=str(c.timezone))
    if entry.interval is not None:
        return Timing(interval_seconds=int(timedelta(**{entry.interval.period: entry.interval.every}).total_seconds()))
    raise ApplicationError("invalid_schedule", f"schedule '{schedule.name}' has neither a cron nor an interval")


def schedule_ticks(*, schedule: Schedule) -> Ticks:
    """When the schedule fires, read from its beat entry."""
    timing = schedule_timing(schedule=schedule)
    if timing.cron:
        return CronTicks.parse(timing.cron, timing.timezone_name)
    assert timing.interval_seconds is not None
    return IntervalTicks(seconds=timing.interval_seconds, anchor=schedule.anchor_at)


def _timing_changed(schedule: Schedule, changes: ScheduleChanges) -> Timing | None:
    """The timing `changes` give the schedule, None when they leave it alone."""
    if not any(key in changes for key in TIMING_FIELDS):
        return None
    current = schedule_timing(schedule=schedule)
    cron = changes.get("cron", current.cron)
    interval_seconds = changes.get("interval_seconds", current.interval_seconds)
    # One replaces the other: a schedule switched to a cron loses its interval, and the other way round.
    if changes.get("cron"):
        interval_seconds = None
    if changes.get("interval_seconds"):
        cron = None
    return Timing(cron=cron or None, interval_seconds=interval_seconds,
                  timezone_name=changes.get("timezone_name", current.timezone_name) or "UTC")


def _check_name_free(*, name: str, schedule: Schedule | None) -> None:
    same_name = Schedule.objects.filter(name=name)
    if (same_name.exclude(pk=schedule.pk) if schedule else same_name).exists():
        raise ApplicationError("duplicate", f"a schedule named '{name}' exists", field="name", status=409)


def _entry_describe(entry: PeriodicTask, schedule: Schedule) -> None:
    entry.description = f"Legion schedule '{schedule.name}' ({schedule.target})"


def _entry_state(entry: PeriodicTask) -> tuple[Any, ...]:
    return entry.name, entry.crontab_id, entry.interval_id, entry.enabled, entry.description


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

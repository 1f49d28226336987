"""Firing schedules: beat dispatches due ticks (applying the catch-up policy), a worker starts each tick's run.

Beat side (`schedule_dispatch`): every tick since the last one dealt with is either sent or recorded
as skipped, in one transaction that also moves `last_tick_at`, under the schedule's row lock; so two
beats that both believe they lead (one paused past its lease) can never send a tick twice, and no
tick is dropped without a row saying so. Ticks older than `schedules.misfire_grace_seconds` were
missed (beat was down or not leading): `skip` records them skipped, `once` sends the newest of them,
`all` sends up to `schedules.max_catch_up` of the newest. Sending goes through the spooling publisher,
after commit: during a broker outage the fire waits in the spool.

Worker side (`schedule_fire`): the fire message names (schedule, tick) and may arrive more than
once, or late (replayed from the spool). The fire row is settled once under lock; a fire arriving
later than the grace follows the policy again: `skip` skips it, `once` starts it unless a run of the
same schedule already started at or after its tick, `all` starts it. The run's idempotency key is
`schedule:<id>:<tick>`, so a tick starts at most one run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.chains.targets import target_trigger
from apps.core.errors import ApplicationError
from apps.core.spool.publisher import publisher
from apps.schedules.models import CatchUp, FireStatus, Schedule, ScheduleFire
from apps.schedules.services import FIRE_TASK, schedule_ticks

logger = logging.getLogger(__name__)

FireOutcome = Literal["started", "skipped", "failed", "finished_already", "missing"]


def schedule_dispatch(*, schedule_id: int, now: datetime | None = None, dispatched_by: str = "") -> datetime | None:
    """Send or skip every tick of the schedule due since its last tick; returns the new last tick."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.CONFIG["schedules.misfire_grace_seconds"])
    cap = settings.CONFIG["schedules.max_catch_up"]
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().filter(pk=schedule_id, enabled=True).first()
        if schedule is None:
            return None
        ticks = schedule_ticks(schedule=schedule)
        after = schedule.last_tick_at or schedule.created_at
        missed = ticks.gap(after, now - grace, keep=cap + 1)
        on_time = list(ticks.between(max(after, now - grace), now))
        send, skipped = _catch_up(schedule.catch_up, missed.newest, missed.count, cap)
        fires = [ScheduleFire(schedule=schedule, tick=tick, dispatched_by=dispatched_by) for tick in send + on_time]
        if skipped and missed.first is not None:
            reason = ("over schedules.max_catch_up" if schedule.catch_up == CatchUp.ALL
                      else f"missed while beat was not running (catch-up: {schedule.catch_up})")
            fires.append(ScheduleFire(schedule=schedule, tick=missed.first, until=skipped[1], count=skipped[0],
                                      status=FireStatus.SKIPPED, reason=reason, dispatched_by=dispatched_by))
        if not fires:
            return schedule.last_tick_at
        ScheduleFire.objects.bulk_create(fires, ignore_conflicts=True)
        schedule.last_tick_at = max(fire.until or fire.tick for fire in fires)
        schedule.save(update_fields=["last_tick_at"])
        for tick in send + on_time:
            transaction.on_commit(partial(fire_publish, schedule_id=schedule_id, tick=tick))
    if send or skipped:
        logger.info("schedule %s: caught up %d missed tick(s): %d sent, %d skipped (catch-up: %s)",
                    schedule.name, missed.count, len(send), skipped[0] if skipped else 0, schedule.catch_up)
    return schedule.last_tick_at


def _catch_up(policy: str, newest: list[datetime], count: int, cap: int) -> tuple[list[datetime],
                                                                                 tuple[int, datetime] | None]:
    """The missed ticks to send, and the skipped span as (how many, its last tick)."""
    if count == 0:
        return [], None
    if policy == CatchUp.SKIP:
        return [], (count, newest[-1])
    keep = 1 if policy == CatchUp.ONCE else cap
    send = newest[-keep:]
    if count <= len(send):
        return send, None
    return send, (count - len(send), newest[-len(send) - 1])


def fire_publish(*, schedule_id: int, tick: datetime) -> None:
    iso = tick.isoformat()
    publisher().publish(task=FIRE_TASK, args=[schedule_id, iso], queue=settings.CONFIG["chains.queue"],
                        message_id=f"fire:{schedule_id}:{iso}")


def schedule_fire(*, schedule_id: int, tick: datetime, now: datetime | None = None) -> FireOutcome:
    """Start the run of one tick, at most once; see the module docstring for lateness."""
    now = now or timezone.now()
    with transaction.atomic():
        schedule = (Schedule.objects.select_for_update(of=("self",)).select_related("function", "chain", "run_as")
                    .filter(pk=schedule_id).first())
        if schedule is None:
            return "missing"
        fire, _ = ScheduleFire.objects.select_for_update().get_or_create(schedule=schedule, tick=tick)
        if fire.status != FireStatus.DISPATCHED:
            return "finished_already"
        reason = _skip_reason(schedule, fire, now)
        if reason:
            fire.status, fire.reason = FireStatus.SKIPPED, reason
            fire.save(update_fields=["status", "reason"])
            return "skipped"
        try:
            run = target_trigger(
                function=schedule.function, chain=schedule.chain, payload=schedule.payload,
                principal=schedule.run_as, triggered_by="schedule",
                idempotency_key=f"schedule:{schedule.pk}:{tick.isoformat()}",
            )
        except ApplicationError as exc:
            # Permanent for this tick (no principal, chain disabled, function gone): recorded, never retried.
            fire.status, fire.error = FireStatus.FAILED, {"code": exc.code, "message": exc.message}
            fire.save(update_fields=["status", "error"])
            logger.warning("schedule %s tick %s failed to start: %s", schedule.name, tick, exc.message)
            return "failed"
        fire.status, fire.run, fire.started_at = FireStatus.STARTED, run, now
        fire.save(update_fields=["status", "run", "started_at"])
    return "started"


def _skip_reason(schedule: Schedule, fire: ScheduleFire, now: datetime) -> str:
    if not schedule.enabled:
        return "the schedule was disabled"
    late = (now - fire.tick).total_seconds()
    if late <= settings.CONFIG["schedules.misfire_grace_seconds"] or schedule.catch_up == CatchUp.ALL:
        return ""
    if schedule.catch_up == CatchUp.SKIP:
        return f"delivered {late:.0f}s late (catch-up: skip)"
    started_since = ScheduleFire.objects.filter(schedule=schedule, started_at__gte=fire.tick).exclude(pk=fire.pk)
    if started_since.exists():
        return f"delivered {late:.0f}s late; a run already started since its tick (catch-up: once)"
    return ""


def fires_redispatch(*, older_than_seconds: int) -> int:
    """Publish again fires still `dispatched` after `older_than_seconds` (a beat that died between commit and
    publish, or an evicted spool file); a fire that was delivered after all settles once."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = ScheduleFire.objects.filter(status=FireStatus.DISPATCHED, created_at__lt=cutoff)
    count = 0
    for schedule_id, tick in stale.values_list("schedule_id", "tick").iterator():
        fire_publish(schedule_id=schedule_id, tick=tick)
        count += 1
    return count

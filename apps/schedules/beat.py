"""The beat scheduler: django-celery-beat's DatabaseScheduler, with a lease, exact ticks and spooled fires.

- **One active beat.** Each `tick()` first holds the `beat` lease (`apps.core.leases`); a beat that
  does not hold it sends nothing and retries every sixth of the lease's ttl, so when the active beat
  dies another takes over within the ttl. Even two beats that both think they lead cannot send a tick
  twice: `schedule_dispatch` settles ticks under the schedule's row lock.
- **Exact ticks.** A Legion schedule's entry asks `TickSchedule` when it is due; it computes the
  schedule's own ticks from the last one dealt with (not Celery's "last run" time, which drifts and is
  only saved every few minutes), so after any gap the missed ticks are seen and caught up.
- **Every fire through the spooling publisher**: a broker outage spools fires instead of losing them.
- **Housekeeping**: the leading beat re-sends fires stuck `dispatched` and sweeps stalled runs
  (`apps.chains.services.sweep`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery import schedules
from celery.beat import SchedulingError
from django.conf import settings
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from apps.chains.services.sweep import runs_sweep
from apps.core.leases import Lease, lease_build
from apps.core.spool.publisher import publisher
from apps.schedules.firing import fires_redispatch, schedule_dispatch
from apps.schedules.models import Schedule
from apps.schedules.services import FIRE_TASK, schedule_ticks
from apps.schedules.ticks import Ticks

logger = logging.getLogger("legion.schedules.beat")

RETRY_AFTER_ERROR = timedelta(seconds=5)
# The leading beat's housekeeping: what, the setting holding its threshold in seconds, and the chore.
CHORES: tuple[tuple[str, str, Callable[[int], int]], ...] = (
    ("re-send stale fires", "schedules.redispatch_after_seconds",
     lambda after: fires_redispatch(older_than_seconds=after)),
    ("sweep stalled runs", "chains.sweep_after_seconds", lambda after: runs_sweep(after_seconds=after)),
)


class TickSchedule(schedules.BaseSchedule):
    """Due when the schedule's next tick after the last one dealt with has come."""

    def __init__(self, schedule_id: int, ticks: Ticks, last_tick: datetime | None) -> None:
        super().__init__()
        self.schedule_id = schedule_id
        self.ticks = ticks
        self.last_tick = last_tick
        self.retry_at: datetime | None = None

    def is_due(self, last_run_at: datetime) -> schedules.schedstate:
        now = timezone.now()
        if self.retry_at and now < self.retry_at:
            return schedules.schedstate(False, (self.retry_at - now).total_seconds())
        upcoming = self.ticks.next_after(self.last_tick or now)
        if upcoming <= now:
            return schedules.schedstate(True, max(0.0, (self.ticks.next_after(now) - now).total_seconds()))
        return schedules.schedstate(False, (upcoming - now).total_seconds())

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        return max(self.ticks.next_after(self.last_tick or timezone.now()) - timezone.now(), timedelta(0))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TickSchedule) and (other.schedule_id, other.ticks) == (self.schedule_id, self.ticks)

    def __hash__(self) -> int:
        return hash((self.schedule_id, self.ticks))

    def __repr__(self) -> str:
        return f"<TickSchedule {self.schedule_id}: {self.ticks.describe()}>"


def tick_schedule_for(entry_model: Any) -> TickSchedule:
    """Raises ValueError (the DatabaseScheduler then leaves the entry out) for an entry without a schedule."""
    schedule = (Schedule.objects.select_related("periodic_task__crontab", "periodic_task__interval")
                .filter(periodic_task=entry_model).first())
    if schedule is None:
        raise ValueError(f"beat entry {entry_model.name} names no Legion schedule")
    return TickSchedule(schedule.pk, schedule_ticks(schedule=schedule), schedule.last_tick_at)


class LegionEntry(ModelEntry):
    def __init__(self, model: Any, app: Any = None, ticks: TickSchedule | None = None) -> None:
        super().__init__(model, app=app)
        if model.task == FIRE_TASK:
            self.schedule = ticks or tick_schedule_for(model)

    def __next__(self) -> LegionEntry:
        # As ModelEntry.__next__, but the next entry shares the TickSchedule, so the last tick the
        # dispatch reports is seen by the entry that goes back on the heap.
        self.model.last_run_at = self._default_now()
        self.model.total_run_count += 1
        self.model.no_changes = True
        ticks = self.schedule if isinstance(self.schedule, TickSchedule) else None
        return self.__class__(self.model, app=self.app, ticks=ticks)


class LegionScheduler(DatabaseScheduler):
    Entry = LegionEntry

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        ttl_ms = settings.CONFIG["schedules.lease_ttl_ms"]
        self.lease: Lease = lease_build("beat", ttl_ms=ttl_ms)
        self.leading = False
        self.renew_seconds = ttl_ms / 3000
        self.standby_seconds = ttl_ms / 6000
        self._renew_at = 0.0
        self._chores_due: dict[str, float] = {}
        self._warned: set[str] = set()
        super().__init__(*args, **kwargs)

    def enabled_models_qs(self) -> Any:
        # django-celery-beat leaves out cron entries more than two hours from now (re-reading them every
        # five minutes); a tick missed while beat was down must be seen at once to be caught up.
        return self.Model.objects.enabled()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._lead():
            return self.standby_seconds
        self._housekeeping()
        return float(min(super().tick(*args, **kwargs), self.renew_seconds))

    def apply_async(self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any) -> Any:
        entry = self.reserve(entry) if advance else entry
        if isinstance(entry.schedule, TickSchedule):
            return self._dispatch(entry.schedule)
        if entry.kwargs:
            # The publisher carries positional arguments only; such an entry is sent the Celery way.
            if entry.name not in self._warned:
                logger.warning("beat entry %s has keyword arguments: sent without the spool", entry.name)
                self._warned.add(entry.name)
            return super().apply_async(entry, producer=producer, advance=False, **kwargs)
        queue = entry.options.get("queue") or self.app.conf.task_default_queue
        return publisher().publish(task=entry.task, args=list(entry.args), queue=queue)

    def close(self) -> None:
        if self.leading:
            self.lease.release()
            self.leading = False
            logger.info("beat lease released by %s", self.lease.holder)
        super().close()

    def _dispatch(self, ticks: TickSchedule) -> datetime | None:
        try:
            last = schedule_dispatch(schedule_id=ticks.schedule_id, dispatched_by=self.lease.holder)
        except Exception as exc:
            # Database down or a schedule gone bad: try this entry again shortly, not in a tight loop.
            ticks.retry_at = timezone.now() + RETRY_AFTER_ERROR
            raise SchedulingError(f"schedule {ticks.schedule_id}: {type(exc).__name__}: {exc}") from exc
        ticks.retry_at = None
        ticks.last_tick = last or ticks.last_tick
        return last

    def _lead(self) -> bool:
        now = time.monotonic()
        if self.leading:
            if now < self._renew_at:
                return True
            if self.lease.renew():
                self._renew_at = now + self.renew_seconds
                return True
            self.leading = False
            logger.warning("beat lease lost by %s: standing by", self.lease.holder)
            return False
        if not self.lease.acquire():
            return False
        self.leading = True
        self._renew_at = now + self.renew_seconds
        logger.info("beat lease acquired by %s: this beat sends the schedules", self.lease.holder)
        # Entries were loaded while standing by: re-read them (and every schedule's last tick) now.
        self._initial_read = True
        self._heap = None
        publisher().drainer_ensure()
        return True

    def _housekeeping(self) -> None:
        """Each chore every half its threshold: re-send fires no worker settled, publish stalled runs again."""
        now = time.monotonic()
        for what, setting, chore in CHORES:
            if now < self._chores_due.get(what, 0.0):
                continue
            after = settings.CONFIG[setting]
            self._chores_due[what] = now + max(after / 2, 1)
            try:
                count = chore(after)
            except Exception as exc:  # noqa: BLE001 - a later pass retries; dispatching must go on
                logger.warning("could not %s: %s", what, exc)
                continue
            if count:
                logger.warning("%s: %d sent again after %ds", what, count, after)

"""When a schedule fires: the ticks of a cron expression in its time zone, or of a fixed interval.

Ticks are exact instants (UTC), computed the same way by every beat, so two beats agree on what
"the 12:05 fire" is and a tick can serve as the fire's identity. Cron fields follow Celery's
`crontab` (day of month and day of week must both match); local times that do not exist (the hour
skipped when clocks go forward) do not fire, and a local time that happens twice (clocks going back)
fires once, the first time.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery.schedules import crontab

MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
# A cron expression that matches no date within this horizon (e.g. "0 0 30 2 *") never fires.
HORIZON = timedelta(days=5 * 366)


@dataclass(frozen=True)
class Gap:
    """The ticks in a span: how many, the first, and the newest `keep` of them (oldest first)."""

    count: int
    first: datetime | None
    newest: list[datetime]


@dataclass(frozen=True)
class CronTicks:
    expression: str
    timezone: str
    _sets: crontab = field(compare=False, repr=False)

    @classmethod
    def parse(cls, expression: str, timezone: str = "UTC") -> CronTicks:
        """Raise ValueError naming the problem for a bad expression or an unknown time zone."""
        normalized = " ".join(MACROS.get(expression.strip(), expression).split())
        parts = normalized.split(" ")
        if len(parts) != 5:
            raise ValueError(f"a cron expression has 5 fields (minute hour day month weekday), got {len(parts)}")
        minute, hour, day_of_month, month_of_year, day_of_week = parts
        try:
            sets = crontab(minute=minute, hour=hour, day_of_week=day_of_week, day_of_month=day_of_month,
                           month_of_year=month_of_year)
        except Exception as exc:  # celery's parser raises several types; all mean "bad field"
            raise ValueError(f"invalid cron expression '{normalized}': {exc}") from exc
        time_zone_get(timezone)
        ticks = cls(expression=normalized, timezone=timezone, _sets=sets)
        ticks.next_after(datetime.now(UTC))  # refuse expressions that never fire
        return ticks

    def next_after(self, moment: datetime) -> datetime:
        """The first tick strictly after `moment`."""
        zone = time_zone_get(self.timezone)
        local = moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        limit = local + HORIZON
        sets = self._sets
        minutes = sorted(sets.minute)
        while local < limit:
            if local.month not in sets.month_of_year:
                local = _month_start(local, 1)
            elif local.day not in sets.day_of_month or local.isoweekday() % 7 not in sets.day_of_week:
                local = datetime(local.year, local.month, local.day) + timedelta(days=1)
            elif local.hour not in sets.hour:
                local = local.replace(minute=0) + timedelta(hours=1)
            elif local.minute not in sets.minute:
                later = [m for m in minutes if m > local.minute]
                local = local.replace(minute=later[0]) if later else local.replace(minute=0) + timedelta(hours=1)
            else:
                instant = local.replace(tzinfo=zone).astimezone(UTC)
                exists = instant.astimezone(zone).replace(tzinfo=None) == local
                if exists and instant > moment:
                    return instant
                local += timedelta(minutes=1)
        raise ValueError(f"cron expression '{self.expression}' never fires")

    def between(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """Every tick t with after < t <= until, oldest first."""
        tick = self.next_after(after)
        while tick <= until:
            yield tick
            tick = self.next_after(tick)

    def gap(self, after: datetime, until: datetime, keep: int) -> Gap:
        newest: collections.deque[datetime] = collections.deque(maxlen=max(keep, 1))
        count, first = 0, None
        for tick in self.between(after, until):
            first = first or tick
            newest.append(tick)
            count += 1
        return Gap(count=count, first=first, newest=list(newest)[-keep:] if keep else [])

    def describe(self) -> str:
        return f"cron '{self.expression}' ({self.timezone})"


@dataclass(frozen=True)
class IntervalTicks:
    """Every `seconds`, counted from `anchor` (so restarts and beats agree on the instants)."""

    seconds: int
    anchor: datetime

    @property
    def every(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    def next_after(self, moment: datetime) -> datetime:
        steps = max((moment - self.anchor) // self.every + 1, 1)
        return self.anchor + steps * self.every

    def between(self, after: datetime, until: datetime) -> Iterator[datetime]:
        tick = self.next_after(after)
        while tick <= until:
            yield tick
            tick += self.every

    def gap(self, after: datetime, until: datetime, keep: int) -> Gap:
        # Arithmetic, not iteration: a one-second interval after a day of downtime is 86,400 ticks.
        first = self.next_after(after)
        if first > until:
            return Gap(count=0, first=None, newest=[])
        last_step = (until - self.anchor) // self.every
        first_step = (first - self.anchor) // self.every
        count = last_step - first_step + 1
        start = max(first_step, last_step - keep + 1)
        return Gap(count=count, first=first,
                   newest=[self.anchor + step * self.every for step in range(start, last_step + 1)] if keep else [])

    def describe(self) -> str:
        return f"every {self.seconds}s"


Ticks = CronTicks | IntervalTicks


def time_zone_get(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{name}'") from exc


def _month_start(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    return datetime(moment.year + index // 12, index % 12 + 1, 1)

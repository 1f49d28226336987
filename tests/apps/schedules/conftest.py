"""Schedule fixtures: a schedule as the admin or API would save it, and its clock set where a test wants it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from apps.chains.services.callers import HOST
from apps.schedules.models import Schedule
from apps.schedules.services import schedule_create
from tests.apps.jobs import function

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def make_schedule(registry: None, operator: Any) -> Callable[..., Schedule]:
    """A schedule of core.basic.log run as the operator, whose clock starts at `last_tick_at` (default T0)."""

    def make(name: str = "tick", *, last_tick_at: datetime = T0, **options: Any) -> Schedule:
        values: dict[str, Any] = {"interval_seconds": 60, "function": function("core.basic.log"),
                                  "payload": {"message": "tick"}, "run_as": operator, **options}
        if values.get("cron"):
            values.pop("interval_seconds")
        schedule = schedule_create(by=HOST, name=name, **values)
        Schedule.objects.filter(pk=schedule.pk).update(last_tick_at=last_tick_at, anchor_at=last_tick_at)
        schedule.refresh_from_db()
        return schedule

    return make

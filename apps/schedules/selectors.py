"""Schedule reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import ApplicationError
from apps.schedules.models import Schedule


def schedule_list() -> QuerySet[Schedule]:
    return Schedule.objects.select_related("function", "chain", "run_as", "periodic_task__crontab",
                                           "periodic_task__interval")


def schedule_get(*, schedule_id: int) -> Schedule:
    schedule = schedule_list().filter(pk=schedule_id).first()
    if schedule is None:
        raise ApplicationError("not_found", f"no schedule {schedule_id}", status=404)
    return schedule

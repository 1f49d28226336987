"""The Celery task beat's fires arrive as: thin, id-based, idempotent."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from apps.schedules.firing import schedule_dispatch, schedule_fire
from apps.schedules.services import FIRE_TASK


@shared_task(name=FIRE_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def schedule_fire_task(schedule_id: int, tick: str | None = None) -> str:
    """Start the run of one tick of a schedule; a repeated or replayed fire changes nothing.

    Without a tick the message came from a plain django-celery-beat scheduler (`celery beat` run
    without Legion's): the due ticks are settled as Legion's beat would, and their fires sent.
    """
    if tick is None:
        schedule_dispatch(schedule_id=schedule_id, dispatched_by="celery-beat")
        return "dispatched"
    return schedule_fire(schedule_id=schedule_id, tick=datetime.fromisoformat(tick))

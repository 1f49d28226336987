"""Schedules (what to fire, as whom, how to catch up) and their fires, one row per tick.

*When* a schedule fires lives in django-celery-beat: the schedule's `PeriodicTask` points at a
`CrontabSchedule` (with its time zone) or an `IntervalSchedule`, so beat, its change tracking and its
models stay the standard ones. *What* it fires, as whom and what happens to missed ticks lives here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.db import models

from apps.chains.models import Target

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


class CatchUp(models.TextChoices):
    SKIP = "skip", "skip missed fires"
    ONCE = "once", "run once for all missed fires"
    ALL = "all", "run every missed fire"


class Schedule(Target):
    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", on_delete=models.PROTECT, related_name="legion_schedule",
        help_text="the beat entry holding the cron expression or interval",
    )
    payload = models.JSONField(default=dict, blank=True)
    catch_up = models.CharField(max_length=10, choices=CatchUp.choices, default=CatchUp.ONCE,
                                help_text="what happens to fires missed while beat or the broker was down")
    enabled = models.BooleanField(default=True)
    anchor_at = models.DateTimeField(help_text="interval ticks are counted from this instant")
    last_tick_at = models.DateTimeField(null=True, blank=True,
                                        help_text="the newest tick beat has dealt with (fired or skipped)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    if TYPE_CHECKING:
        # django-celery-beat ships no type information, so the mypy plugin cannot complete models
        # related to its PeriodicTask: what it would add is declared here.
        objects: ClassVar[models.Manager[Schedule]]
        function_id: int | None
        chain_id: int | None
        run_as_id: int | None
        periodic_task_id: int
        fires: RelatedManager[ScheduleFire]

    class Meta:
        db_table = "chains_schedule"  # the table it had inside the engine's app
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(function__isnull=True) ^ models.Q(chain__isnull=True),
                name="schedule_function_xor_chain",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> str:
        return f"chain {self.chain.name}" if self.chain_id and self.chain else str(self.function)


class FireStatus(models.TextChoices):
    DISPATCHED = "dispatched", "sent by beat, waiting for a worker"
    STARTED = "started", "run created"
    SKIPPED = "skipped", "skipped by the catch-up policy"
    FAILED = "failed", "could not start (see error)"


class ScheduleFire(models.Model):
    """One tick of a schedule, or one span of ticks skipped together (`count` > 1, up to `until`)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="fires")
    tick = models.DateTimeField(help_text="the instant the schedule was due")
    until = models.DateTimeField(null=True, blank=True, help_text="last tick of a skipped span")
    count = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=12, choices=FireStatus.choices, default=FireStatus.DISPATCHED)
    reason = models.CharField(max_length=300, blank=True)
    error = models.JSONField(null=True, blank=True)
    run = models.ForeignKey("chains.TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dispatched_by = models.CharField(max_length=200, blank=True, help_text="the beat (lease holder) that sent it")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)

    if TYPE_CHECKING:
        objects: ClassVar[models.Manager[ScheduleFire]]
        schedule_id: int
        run_id: str | None

    class Meta:
        db_table = "chains_schedulefire"
        ordering = ["-tick"]
        constraints = [models.UniqueConstraint(fields=["schedule", "tick"], name="schedule_fire_once_per_tick")]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.schedule} @ {self.tick:%Y-%m-%d %H:%M:%S} {self.status}"

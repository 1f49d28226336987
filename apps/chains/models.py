"""Chains of runner functions, the relationships between them, and a row for every execution."""

from __future__ import annotations

import uuid

from django.db import models

from apps.runners.models import Function


class Chain(models.Model):
    """A named, versioned group of relationships; the version rises with every change to its relationships."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    enabled = models.BooleanField(default=True)
    cloned_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="clones")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class TransformationKind(models.TextChoices):
    CEL = "cel", "CEL expression"
    LLM = "llm", "LLM instruction (through the proxy)"


class Relationship(models.Model):
    """When `trigger` succeeds, run `action` if `condition` holds, with the payload `transformation` builds.

    Both expressions are CEL over `result` (the trigger's output, or one element of it when it is a
    list), `payload` (the trigger's input) and `index`; an empty condition always holds and an empty
    transformation passes the result on.
    """

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="relationships")
    name = models.CharField(max_length=200, blank=True)
    trigger = models.ForeignKey(Function, on_delete=models.PROTECT, related_name="+")
    action = models.ForeignKey(Function, on_delete=models.PROTECT, related_name="+")
    condition = models.TextField(blank=True)
    transformation = models.TextField(blank=True)
    transformation_kind = models.CharField(
        max_length=10, choices=TransformationKind.choices, default=TransformationKind.CEL
    )
    delay_seconds = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    allow_new_chains = models.BooleanField(
        default=False, help_text="also fire for runs outside this chain, starting a new run of it"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["chain__name", "pk"]
        indexes = [models.Index(fields=["trigger", "active"])]

    def __str__(self) -> str:
        return self.name or f"{self.trigger} -> {self.action}"


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    DEAD_LETTERED = "dead_lettered"
    REFUSED = "refused"  # a child its principal may not execute: recorded, never queued


FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.CANCELLED, RunStatus.DEAD_LETTERED,
            RunStatus.REFUSED)


class TaskRun(models.Model):
    """One execution of one function. The Celery message carries only the id; this row is the truth."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    function = models.ForeignKey(Function, on_delete=models.PROTECT, related_name="runs")
    chain = models.ForeignKey(Chain, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    chain_version = models.PositiveIntegerField(null=True, blank=True)
    relationship = models.ForeignKey(
        Relationship, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    root = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="descendants")
    idempotency_key = models.CharField(max_length=300, help_text="unique per principal and function")
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True, help_text="{code, message, field?}")
    log = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="times the function was called")
    max_attempts = models.PositiveIntegerField(default=1)
    deliveries = models.PositiveIntegerField(default=0, help_text="times a worker picked the run up")
    lost_deliveries = models.PositiveIntegerField(default=0, help_text="pick-ups that died before finishing")
    holder = models.BigIntegerField(null=True, blank=True, editable=False,
                                    help_text="token of the database session executing it (services/holders.py)")
    triggered_by = models.CharField(max_length=200, blank=True, help_text="api, cli, chain, actor, schedule")
    principal = models.CharField(max_length=200, blank=True, help_text="who asked for the root run")
    not_before = models.DateTimeField(null=True, blank=True, help_text="delayed or backing off until then")
    swept_at = models.DateTimeField(null=True, blank=True, editable=False,
                                    help_text="when the run sweeper last published it again (services/sweep.py)")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["root", "created_at"])]
        # A key is the caller's own: another principal's key, or the same key for another function, is
        # another run. Key first: the lookup of a key is this index's prefix.
        constraints = [models.UniqueConstraint(fields=["idempotency_key", "principal", "function"],
                                               name="chains_run_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.function} {self.status} ({self.pk})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None



class Target(models.Model):
    """What a trigger (actor, schedule, webhook) starts, a function or a chain, and the principal its runs have.

    Each trigger states which combinations it allows in a check constraint of its own: an absorber actor
    has no target of its own, schedules and webhooks exactly one.
    """

    function = models.ForeignKey(Function, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text="the function to run (or a chain)")
    chain = models.ForeignKey(Chain, null=True, blank=True, on_delete=models.PROTECT, related_name="%(class)ss",
                              help_text="the chain to start (or a function)")
    run_as = models.ForeignKey("rbac.Principal", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", help_text="the principal the runs are authorized as")

    class Meta:
        abstract = True

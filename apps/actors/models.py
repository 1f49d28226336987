"""Actors as configured (declared by extensions or made in the admin) and what their runtime last did."""

from __future__ import annotations

from django.db import models

from apps.chains.models import Target


class ActorKind(models.TextChoices):
    SUBSCRIPTION = "subscription", "subscription: consume a queue or routing key"
    EVERY = "every", "every: fixed interval, skipping a tick while the last run is going"
    POLL = "poll", "poll: interval, fires only when the result changed"
    ONCE = "once", "once: at startup, after a delay"
    LOOP = "loop", "loop: continuously, backing off when idle"
    NOTHING = "nothing", "nothing: only invoked directly"
    SINGLETON = "singleton", "singleton: every, on exactly one node (leader lease)"
    ABSORBER = "absorber", "absorber: routes an input to the handler whose pattern matches"


class Actor(Target):
    name = models.CharField(max_length=150, unique=True, help_text="declared actors are <extension>.<name>")
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=ActorKind.choices)
    payload = models.JSONField(default=dict, blank=True, help_text="input of each run (subscriptions: the message)")
    options = models.JSONField(default=dict, blank=True, help_text="the kind's options (see docs/jobs.md)")
    # Redeclared for its help text: an actor's runs have a principal even without one (a setting).
    run_as = models.ForeignKey("rbac.Principal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="principal its runs are authorized as (default: actors.principal)")
    enabled = models.BooleanField(default=True)
    extension = models.ForeignKey("runners.Extension", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="actors", help_text="the extension that declares it")
    available = models.BooleanField(default=True, help_text="false once its extension no longer declares it")
    customized = models.BooleanField(default=False, help_text="edited here: syncing the extension leaves it be")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "chains_actor"  # the table it had inside the engine's app
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(function__isnull=False, chain__isnull=False),
                                   name="actor_function_or_chain"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ActorState(models.Model):
    """Written by the runtime only (the admin form never saves it, so an edit cannot undo a tick)."""

    actor = models.OneToOneField(Actor, on_delete=models.CASCADE, primary_key=True, related_name="state")
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey("chains.TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    fired_count = models.PositiveBigIntegerField(default=0)
    skipped_count = models.PositiveBigIntegerField(default=0, help_text="ticks skipped while the last run went on")
    last_result = models.JSONField(null=True, blank=True, help_text="poll: the result changes are measured against")
    last_result_at = models.DateTimeField(null=True, blank=True)
    last_error = models.JSONField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    error_count = models.PositiveBigIntegerField(default=0)
    leader = models.CharField(max_length=200, blank=True, help_text="singleton: the lease holder")
    node = models.CharField(max_length=200, blank=True, help_text="the `legion actors` process that last ran it")
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "chains_actorstate"

    def __str__(self) -> str:
        return f"state of {self.actor_id}"

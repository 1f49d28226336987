"""Moving actors, schedules and webhooks into apps of their own keeps their rows, and their content types follow."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.actors.models import Actor, ActorState
from apps.schedules.models import Schedule, ScheduleFire
from apps.webhooks.models import Webhook

BEFORE = [("chains", "0005_run_idempotency_key_per_principal")]
MOVED = {"actors": ["actor", "actorstate"], "schedules": ["schedule", "schedulefire"], "webhooks": ["webhook"]}


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate the test database to `targets`; the historical models there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_rows_written_before_the_move_are_read_by_the_new_apps_after_it(registry: None) -> None:
    # Given a database at the engine's last migration before the move, with a row of every moved model
    old = migrate(BEFORE)
    function = old.get_model("runners", "Function").objects.get(qualified_name="core.basic.log")
    principal = old.get_model("rbac", "Principal").objects.create(name="mover")
    actor = old.get_model("chains", "Actor").objects.create(name="ticker", kind="every", function=function,
                                                            payload={"message": "hi"}, run_as=principal)
    old.get_model("chains", "ActorState").objects.create(actor=actor, fired_count=7)
    interval = old.get_model("django_celery_beat", "IntervalSchedule").objects.create(every=60, period="seconds")
    task = old.get_model("django_celery_beat", "PeriodicTask").objects.create(
        name="legion schedule nightly", task="legion.schedules.fire", interval=interval)
    schedule = old.get_model("chains", "Schedule").objects.create(
        name="nightly", periodic_task=task, function=function, anchor_at=timezone.now())
    old.get_model("chains", "ScheduleFire").objects.create(schedule=schedule, tick=timezone.now(), status="skipped")
    old.get_model("chains", "Webhook").objects.create(name="deploys", function=function, secret_encrypted="v1:x")
    content_types = {(label, model): ContentType.objects.get(app_label="chains", model=model).pk
                     for label, models in MOVED.items() for model in models}

    # When every migration runs
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    # Then the new apps' models read the same rows, and the content types (with their permissions) moved
    moved = Actor.objects.get(name="ticker")
    assert (moved.function_id, moved.payload, moved.run_as_id) == (function.pk, {"message": "hi"}, principal.pk)
    assert ActorState.objects.get(actor=moved).fired_count == 7
    assert ScheduleFire.objects.get(schedule=Schedule.objects.get(name="nightly")).status == "skipped"
    assert Webhook.objects.get(name="deploys").secret_encrypted == "v1:x"
    ContentType.objects.clear_cache()
    for (label, model), pk in content_types.items():
        assert ContentType.objects.get(app_label=label, model=model).pk == pk
    assert not ContentType.objects.filter(app_label="chains", model__in=["actor", "webhook", "schedule"]).exists()

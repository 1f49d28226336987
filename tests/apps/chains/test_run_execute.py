"""Executing runs: statuses, results, retries with backoff, validation, idempotent redelivery, dead letters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.db import connection

from apps.chains.models import RunStatus, TaskRun
from apps.chains.services.runs import run_execute
from tests.apps.jobs import drive, run_create
from tests.support import wait_until

pytestmark = pytest.mark.usefixtures("registry")


def test_a_run_succeeds_with_its_result_log_and_timings() -> None:
    run = run_create("core.basic.log", {"message": "hello", "level": "warning"})
    assert run_execute(run_id=str(run.pk)) == "succeeded"
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.result == {"message": "hello", "level": "warning"}
    assert run.log == [{"level": "warning", "message": "hello"}]
    assert (run.attempts, run.deliveries, run.error) == (1, 1, None)
    assert run.started_at is not None and run.finished_at is not None and run.duration_seconds is not None


def test_a_payload_that_breaks_the_schema_fails_the_run_naming_the_field_without_retry() -> None:
    run = run_create("core.basic.wait", {"seconds": 999})
    assert run_execute(run_id=str(run.pk)) == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error["code"] == "validation_error"
    assert run.error["field"] == "seconds"
    assert run.attempts == 1


def test_a_failing_function_is_retried_with_growing_backoff_until_it_succeeds() -> None:
    run = run_create("core.basic.fail", {"until_attempt": 2})
    assert run.max_attempts == 3
    assert run_execute(run_id=str(run.pk)) == "retrying"
    run.refresh_from_db()
    first_wait = (run.not_before - run.started_at).total_seconds()
    assert run.status == RunStatus.QUEUED and run.error["attempt"] == 1
    assert run_execute(run_id=str(run.pk)) == "retrying"
    run.refresh_from_db()
    second_wait = (run.not_before - run.started_at).total_seconds()
    assert 0.15 < first_wait < second_wait < 0.6  # 0.2 s, then 0.4 s
    assert run_execute(run_id=str(run.pk)) == "succeeded"
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == (RunStatus.SUCCEEDED, 3, None)
    assert run.result["message"] == "succeeded on attempt 3"


def test_a_function_that_keeps_failing_ends_failed_after_its_attempts() -> None:
    run = run_create("core.basic.fail", {"message": "always"})
    assert drive() == ["retrying", "retrying", "failed"]
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == {"code": "function_error", "message": "RuntimeError: always (attempt 3)"}


def test_a_permanent_error_is_not_retried() -> None:
    run = run_create("core.basic.fail", {"permanent": True})
    assert run_execute(run_id=str(run.pk)) == "failed"
    run.refresh_from_db()
    assert (run.error["code"], run.attempts) == ("permanent_error", 1)


def test_a_redelivered_or_replayed_message_for_a_finished_run_changes_nothing() -> None:
    run = run_create("core.basic.echo", {"data": {"a": 1}})
    run_execute(run_id=str(run.pk))
    before = TaskRun.objects.values().get(pk=run.pk)
    assert run_execute(run_id=str(run.pk)) == "finished_already"
    assert run_execute(run_id=str(run.pk)) == "finished_already"
    assert TaskRun.objects.values().get(pk=run.pk) == before


def test_a_message_for_an_unknown_run_is_dropped() -> None:
    assert run_execute(run_id="00000000-0000-0000-0000-000000000000") == "missing"


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_delivery_while_the_run_executes_elsewhere_is_turned_away(registry: None) -> None:
    run = run_create("core.basic.log", {"message": "x"})
    params = connection.get_connection_params()
    other = psycopg.connect(**{k: v for k, v in params.items() if k in ("host", "port", "user", "dbname")},
                            autocommit=True)
    # What a live worker's claim leaves: the run running, held by a token its session holds the lock of.
    token = 4242
    other.execute("SELECT pg_advisory_lock(%s)", [token])
    TaskRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, deliveries=1, attempts=1, holder=token)
    try:
        assert run_execute(run_id=str(run.pk)) == "busy"
        run.refresh_from_db()
        assert (run.status, run.deliveries, run.holder) == (RunStatus.RUNNING, 1, token)
    finally:
        other.close()  # the holder dies: its lock goes with its connection (once the server notices)

    def not_busy() -> str | None:
        outcome = run_execute(run_id=str(run.pk))
        return None if outcome == "busy" else outcome

    assert wait_until(not_busy, timeout=5, what="the server to free the dead holder's lock") == "succeeded"
    run.refresh_from_db()
    assert (run.lost_deliveries, run.deliveries, run.attempts) == (1, 2, 2)


def test_a_run_whose_worker_keeps_dying_is_dead_lettered(config: Callable[[str, Any], None]) -> None:
    config("runners.max_deliveries", 2)
    run = run_create("core.basic.log", {"message": "poison"})
    # What a worker killed mid-task leaves behind: the run claimed (running), the message redelivered.
    TaskRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, deliveries=1, attempts=1)
    assert run_execute(run_id=str(run.pk)) == "succeeded"  # first redelivery: lost once, runs again
    run.refresh_from_db()
    assert (run.lost_deliveries, run.deliveries, run.attempts) == (1, 2, 2)

    poison = run_create("core.basic.log", {"message": "poison"})
    TaskRun.objects.filter(pk=poison.pk).update(status=RunStatus.RUNNING, deliveries=2, lost_deliveries=1)
    assert run_execute(run_id=str(poison.pk)) == "dead_lettered"
    poison.refresh_from_db()
    assert poison.status == RunStatus.DEAD_LETTERED
    assert poison.error["code"] == "dead_lettered"
    assert run_execute(run_id=str(poison.pk)) == "finished_already"


def test_an_oversized_result_fails_the_run(config: Callable[[str, Any], None]) -> None:
    config("chains.max_payload_bytes", 100)
    run = run_create("core.basic.echo", {"data": {"blob": "x" * 90}})
    assert run_execute(run_id=str(run.pk)) == "failed"
    run.refresh_from_db()
    assert run.error["code"] == "payload_too_large"


@pytest.mark.django_db(transaction=True)  # autocommit, as in a worker: each write is its own transaction
@pytest.mark.parametrize("synchronous", [False, True], ids=["asynchronous-commit", "synchronous-commit"])
def test_a_step_claims_and_finishes_with_its_children_under_either_durability(
    synchronous: bool, config: Callable[[str, Any], None], queue: str
) -> None:
    from apps.chains.models import Chain
    from tests.apps.jobs import link

    config("chains.step_writes_synchronous", synchronous)
    chain = Chain.objects.create(name="durability")
    link(chain, "core.basic.split", "core.basic.log", transformation='{"message": string(result.value)}')
    root = run_create("core.basic.split", {"items": ["a", "b", "c"]}, chain=chain)
    assert drive() == ["succeeded"] * 4
    children = TaskRun.objects.filter(parent=root).order_by("idempotency_key")
    assert [child.payload["message"] for child in children] == ["a", "b", "c"]
    assert {(child.root_id, child.chain_id, child.attempts) for child in children} == {(root.pk, chain.pk, 1)}
    with connection.cursor() as cursor:  # the statement's own setting ended with it
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_a_finish_by_a_delivery_that_lost_the_run_writes_nothing() -> None:
    from django.utils import timezone

    from apps.chains.services.rows import run_claim, run_finish

    run = run_create("core.basic.log", {"message": "x"})
    claimed = run_claim(run_id=str(run.pk), holder=1, now=timezone.now())
    assert claimed is not None and claimed.attempts == 1 and claimed.payload == {"message": "x"}
    TaskRun.objects.filter(pk=run.pk).update(attempts=2)  # another delivery took it over meanwhile
    child = TaskRun(function=run.function, idempotency_key=f"{run.pk}:child", payload={}, parent=run)
    assert not run_finish(run=claimed, changes={"status": RunStatus.SUCCEEDED}, children=[child])
    assert TaskRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
    assert not TaskRun.objects.filter(parent=run).exists()


def test_a_worker_reuses_relationships_until_they_change_here_or_its_cache_time_passes(
    config: Callable[[str, Any], None]
) -> None:
    from apps.chains.models import Chain, Relationship
    from tests.apps.jobs import link

    def children_of_a_new_run() -> int:
        root = run_create("core.basic.echo", {"data": {"text": "hi"}}, chain=chain)
        assert run_execute(run_id=str(root.pk)) == "succeeded"
        return TaskRun.objects.filter(parent=root).count()

    config("chains.relationships_cache_ms", 60_000)
    chain = Chain.objects.create(name="cached")
    relationship = link(chain, "core.basic.echo", "core.basic.log", transformation='{"message": result.text}')
    assert children_of_a_new_run() == 1
    # Another process's edit (no signal reaches this one): this worker goes on with what it read...
    Relationship.objects.filter(pk=relationship.pk).update(active=False)
    assert children_of_a_new_run() == 1
    # ... until its cache time has passed.
    config("chains.relationships_cache_ms", 0)
    assert children_of_a_new_run() == 0
    # An edit saved in this process applies at once.
    config("chains.relationships_cache_ms", 60_000)
    relationship.refresh_from_db()
    relationship.active = True
    relationship.save()
    assert children_of_a_new_run() == 1

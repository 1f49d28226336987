"""Executing runs: statuses, results, retries with backoff, validation, idempotent redelivery, dead letters."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.db import connection

from apps.chains.models import RunStatus, TaskRun
from apps.chains.services.locks import _lock_key
from apps.chains.services.runs import run_execute
from tests.apps.chains.conftest import drive, run_create

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
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [_lock_key(str(run.pk))])
        assert run_execute(run_id=str(run.pk)) == "busy"
        run.refresh_from_db()
        assert (run.status, run.deliveries) == (RunStatus.QUEUED, 0)
    finally:
        other.close()  # the holder dies: its lock goes with its connection (once the server notices)
    outcomes = [run_execute(run_id=str(run.pk))]
    deadline = time.monotonic() + 5
    while outcomes[-1] == "busy" and time.monotonic() < deadline:
        time.sleep(0.05)
        outcomes.append(run_execute(run_id=str(run.pk)))
    assert outcomes[-1] == "succeeded"


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

"""The run sweeper against real PostgreSQL and RabbitMQ: stalled runs are published again, live ones are not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from apps.chains.models import RunStatus, TaskRun
from apps.chains.services.runs import run_execute
from apps.chains.services.sweep import runs_sweep
from tests.apps.jobs import link, run_create
from tests.support import received

pytestmark = pytest.mark.usefixtures("registry")

AFTER = 60


def aged(run: TaskRun, **fields: Any) -> TaskRun:
    """The run as it looks `AFTER` seconds and more later, with `fields` set."""
    long_ago = timezone.now() - timedelta(seconds=AFTER + 5)
    TaskRun.objects.filter(pk=run.pk).update(created_at=long_ago, **fields)
    run.refresh_from_db()
    return run


@pytest.fixture
def other_session() -> Iterator[psycopg.Connection[Any]]:
    """A second database session, as a live worker's would be."""
    params = connection.get_connection_params()
    other = psycopg.connect(**{k: v for k, v in params.items() if k in ("host", "port", "user", "dbname")},
                            autocommit=True)
    yield other
    other.close()


def test_a_queued_run_whose_message_was_lost_is_published_again_once_per_threshold(queue: str) -> None:
    stalled = aged(run_create("core.basic.log", {"message": "lost"}))
    fresh = run_create("core.basic.log", {"message": "on its way"})
    delayed = aged(run_create("core.basic.log", {"message": "later"}), not_before=timezone.now() + timedelta(hours=1))

    assert runs_sweep(after_seconds=AFTER) == 1
    assert received(queue, 1) == [[str(stalled.pk)]]
    assert runs_sweep(after_seconds=AFTER) == 0, "swept a moment ago: not again before the threshold"
    stalled.refresh_from_db()
    fresh.refresh_from_db()
    delayed.refresh_from_db()
    assert stalled.swept_at is not None and fresh.swept_at is None and delayed.swept_at is None


def test_children_committed_but_never_published_are_recovered(queue: str) -> None:
    # What a worker killed between its finishing commit and its publish leaves: the parent succeeded (its
    # redelivered message changes nothing), the child queued with no message anywhere.
    from apps.chains.models import Chain

    chain = Chain.objects.create(name="recover")
    link(chain, "core.basic.echo", "core.basic.log", transformation='{"message": result.text}')
    root = run_create("core.basic.echo", {"data": {"text": "hi"}}, chain=chain)
    assert run_execute(run_id=str(root.pk)) == "succeeded"  # inside the test's transaction: published on a commit
    child = aged(TaskRun.objects.get(parent=root))

    assert runs_sweep(after_seconds=AFTER) == 1
    assert received(queue, 1) == [[str(child.pk)]]


def test_a_running_run_is_published_again_only_when_its_holder_is_gone(
    queue: str, other_session: psycopg.Connection[Any]
) -> None:
    token = 7_000_001
    other_session.execute("SELECT pg_advisory_lock(%s)", [token])
    started = timezone.now() - timedelta(seconds=AFTER + 5)
    alive = aged(run_create("core.basic.log", {"message": "long"}), status=RunStatus.RUNNING, holder=token,
                 started_at=started, attempts=1)
    dead = aged(run_create("core.basic.log", {"message": "killed"}), status=RunStatus.RUNNING,
                holder=token + 1, started_at=started, attempts=1)

    assert runs_sweep(after_seconds=AFTER) == 1
    assert received(queue, 1) == [[str(dead.pk)]]
    alive.refresh_from_db()
    assert alive.swept_at is None


@pytest.mark.django_db(transaction=True)  # the worker's own session, which the failure closes
def test_a_step_that_breaks_half_way_is_swept_once_its_session_is_closed(
    queue: str, monkeypatch: pytest.MonkeyPatch, other_session: psycopg.Connection[Any]
) -> None:
    from apps.chains import tasks
    from apps.chains.services import runs

    run = run_create("core.basic.log", {"message": "x"})

    def broken(**_: Any) -> list[TaskRun]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(runs, "children_build", broken)
    with pytest.raises(RuntimeError):
        tasks.run_execute_task(str(run.pk))
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.holder is not None
    free = other_session.execute("SELECT pg_try_advisory_lock(%s)", [run.holder]).fetchone()
    assert free == (True,), "the failed step's session was closed, and its hold on the run with it"
    other_session.execute("SELECT pg_advisory_unlock(%s)", [run.holder])
    aged(run, started_at=timezone.now() - timedelta(seconds=AFTER + 5))

    assert runs_sweep(after_seconds=AFTER) == 1, "the holder went with the closed session"
    assert received(queue, 1) == [[str(run.pk)]]
    monkeypatch.undo()
    assert run_execute(run_id=str(run.pk)) == "succeeded"
    run.refresh_from_db()
    assert (run.lost_deliveries, run.attempts) == (1, 2)

"""Publishing runs' messages: only after the write that created or changed the runs has committed."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import connection, transaction

from apps.core.spool.publisher import Outcome, publisher

EXECUTE_TASK = "legion.chains.run_execute"

# (run id, seconds to wait before it may start, or None)
Due = tuple[str, float | None]


def run_publish(*, run_id: str, countdown: float | None = None) -> Outcome:
    """Publish now (through the spool-aware publisher); callers inside a transaction use `run_publish_on_commit`."""
    return publisher().publish(
        task=EXECUTE_TASK, args=[run_id], queue=settings.CONFIG["chains.queue"], countdown=countdown
    )


def run_publish_on_commit(*, run_id: str, countdown: float | None = None) -> None:
    """A worker that picked the message up before the commit would not find the run, or find it stale."""
    transaction.on_commit(lambda: run_publish(run_id=run_id, countdown=countdown))


def runs_publish(*, runs: Sequence[Due]) -> None:
    """Publish several runs written by one statement: after the transaction commits, if one is open; else now,
    sending them all before waiting for the broker's confirms once (a fan-out's thousand children)."""
    if connection.in_atomic_block:
        for run_id, countdown in runs:
            run_publish_on_commit(run_id=run_id, countdown=countdown)
        return
    queue = settings.CONFIG["chains.queue"]
    with publisher().batch() as batch:
        for run_id, countdown in runs:
            batch.publish(task=EXECUTE_TASK, args=[run_id], queue=queue, countdown=countdown)

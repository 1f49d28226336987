"""Publishing a run's message: only after the transaction that created or changed the run has committed."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from apps.chains.spool.publisher import Outcome, publisher

EXECUTE_TASK = "legion.chains.run_execute"


def run_publish(*, run_id: str, countdown: float | None = None) -> Outcome:
    """Publish now (through the spool-aware publisher); callers inside a transaction use `run_publish_on_commit`."""
    return publisher().publish(
        task=EXECUTE_TASK, args=[run_id], queue=settings.CONFIG["chains.queue"], countdown=countdown
    )


def run_publish_on_commit(*, run_id: str, countdown: float | None = None) -> None:
    """A worker that picked the message up before the commit would not find the run, or find it stale."""
    transaction.on_commit(lambda: run_publish(run_id=run_id, countdown=countdown))

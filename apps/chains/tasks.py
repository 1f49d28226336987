"""Celery tasks of the job engine: thin, id-based, idempotent; the services hold the logic."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from apps.chains.services.runs import run_execute


@shared_task(name="legion.chains.run_execute", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_execute_task(run_id: str) -> str:
    """Execute one delivery of a run; a duplicate or replayed message for a finished run changes nothing."""
    try:
        return run_execute(run_id=run_id)
    except Exception:
        # Something broke mid-step (the database, most likely) and Celery acknowledges the message anyway.
        # The run may still be claimed by this session: closing it lets the lock on its holder token go,
        # so the run sweeper takes the run over instead of leaving it running for as long as we live.
        connection.close()
        raise


"""The peer's Celery app and its ten no-op tasks, each storing its result through the app's result backend."""

from __future__ import annotations

from functools import partial

from celery import Celery
from django.db import connection

from bench.chains.noops import noops_chain_start, noops_register

# Configured as a Django project's Celery app is, from the settings of the process it runs in: the peer's in its
# worker (results in the database), Legion's in the benchmark, which only publishes. Never the current app, so
# shared tasks (the bare peer's, Legion's) keep publishing through Legion's.
app = Celery("bench-db-results", set_as_current=False)
app.config_from_object("django.conf:settings", namespace="CELERY")

# ignore_result=False explicitly: the benchmark publishes under Legion's settings, whose CELERY_TASK_IGNORE_RESULT
# would otherwise travel in the first message and tell the worker to store nothing.
NOOPS = noops_register(partial(app.task, ignore_result=False), prefix="bench.chains.db_results")
RESULTS_TABLE = "django_celery_results_taskresult"


def db_results_chain_start(*, mark: str, queue: str) -> None:
    noops_chain_start(NOOPS, mark=mark, queue=queue)


def db_results_stored() -> dict[str, int]:
    """Task results in the database, by state. Plain SQL: the benchmark process does not install the app."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, count(*) FROM {RESULTS_TABLE} GROUP BY status")
        return {status: count for status, count in cursor.fetchall()}

"""The Celery application, configured from Django settings (CELERY_* keys)."""

import os
import time
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legion_site.settings")

app = Celery("legion")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# A connection the previous task used this recently needs no health-check query before the next task.
RECENTLY_USED_SECONDS = 1.0
_last_task_end = 0.0


@task_postrun.connect
def database_connections_tidy(**kwargs: Any) -> None:
    """Drop connections past CONN_MAX_AGE or broken ones, as Django does after each request.

    Connections are otherwise kept across tasks (CELERY_DB_REUSE_MAX), which saves a connect per task.
    """
    global _last_task_end
    from django.db import close_old_connections

    close_old_connections()
    _last_task_end = time.monotonic()


@task_prerun.connect
def database_connections_ready(**kwargs: Any) -> None:
    """Before a task: after an idle spell, tidy and health-check (CONN_HEALTH_CHECKS) as a request would.

    Straight after another task, the connection it left open worked a moment ago (a broken one was
    dropped by the tidy); checking it would cost a busy worker a round trip per task.
    """
    from django.db import close_old_connections, connections

    if time.monotonic() - _last_task_end >= RECENTLY_USED_SECONDS:
        close_old_connections()
        return
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            connection.health_check_done = True  # type: ignore[attr-defined]  # Django has it; its stubs do not

"""The Celery application, configured from Django settings (CELERY_* keys)."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legion_site.settings")

app = Celery("legion")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def database_connections_tidy(**kwargs: Any) -> None:
    """Drop connections past CONN_MAX_AGE or broken ones, as Django does around each request.

    Connections are otherwise kept across tasks (CELERY_DB_REUSE_MAX), which saves a connect per task.
    """
    from django.db import close_old_connections

    close_old_connections()

"""The Celery application, configured from Django settings (CELERY_* keys)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legion_site.settings")

app = Celery("legion")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""Django settings of the peer's worker: Legion's database, broker and Celery settings, plus django-celery-results.

What a Celery user who wants every task's state and result in the database adds: the app installed, the
`django-db` result backend and extended results (task name, args, kwargs, worker and queue beside each
result). Task state STARTED is not tracked (Celery's default: one write per task, the peer's cheapest form)
unless the benchmark runs with --track-started, which stores a running task's state too, as Legion's row does.
django-celery-results is installed here only, never in Legion's settings. Importing Legion's settings also
loads `legion_site.celery`'s task signals, so this worker keeps and checks its database connection exactly as
`legion worker` does for Legion's runs and the bare tasks.
"""

import os

from bench.chains.db_results import TRACK_STARTED_VARIABLE
from legion_site import settings as legion

CONFIG = legion.CONFIG  # bench/chains/marks.py reads the Redis URL from it
SECRET_KEY = legion.SECRET_KEY
DATABASES = legion.DATABASES  # the benchmark's database, with Legion's connection age and health checks
DEFAULT_AUTO_FIELD = legion.DEFAULT_AUTO_FIELD
TIME_ZONE = legion.TIME_ZONE
USE_TZ = legion.USE_TZ
LOGGING = legion.LOGGING
# Every Celery setting of Legion's worker, whatever they become: late acks, prefetch 1, JSON, publisher
# confirms, connection reuse; then the three a results user adds.
globals().update({name: value for name, value in vars(legion).items() if name.startswith("CELERY_")})

INSTALLED_APPS = ["django_celery_results"]
CELERY_TASK_IGNORE_RESULT = False
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TRACK_STARTED = os.environ.get(TRACK_STARTED_VARIABLE) == "1"

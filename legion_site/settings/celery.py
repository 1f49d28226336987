"""Celery integration shared by both modes: late acknowledgement so a killed worker's task is redelivered."""

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# django-celery-beat's schedules, sent only while this beat holds the beat lease (apps/schedules).
CELERY_BEAT_SCHEDULER = "apps.schedules.beat:LegionScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes every database connection around every task unless this is set; opening
# one costs milliseconds per task. legion_site/celery.py closes old or broken ones at task boundaries
# instead, honouring CONN_MAX_AGE and CONN_HEALTH_CHECKS like a web request does.
CELERY_DB_REUSE_MAX = 1000

"""The Celery-with-database-results peer: the bare no-op chain in a Celery app and worker of their own, whose
every task's state and result django-celery-results stores in the benchmark's PostgreSQL database."""

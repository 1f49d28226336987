"""The Celery-with-database-results peer: the bare no-op chain in a Celery app and worker of their own, whose
every task's state and result django-celery-results stores in the benchmark's PostgreSQL database."""

# Set to "1" in the peer worker's environment (`--track-started`): it stores STARTED too (settings.py).
TRACK_STARTED_VARIABLE = "BENCH_DB_RESULTS_TRACK_STARTED"

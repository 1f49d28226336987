"""`python -m bench.chains.db_results.worker --queues Q --concurrency N`: the peer's worker.

Celery's own worker on the peer's app, with the flags `legion worker` passes, after migrating
django-celery-results' tables into the benchmark's (fresh) database.
"""

import os
import sys

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.chains.db_results.settings"


def main(argv: list[str]) -> int:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "django_celery_results", interactive=False, verbosity=0)
    from bench.chains.db_results.app import app

    app.worker_main(["worker", "--loglevel=INFO", "--without-mingle", "--without-gossip",
                     f"--hostname=bench-db-results-{os.getpid()}@%h", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`python -m bench.chains.worker …`: `legion worker …` with the bare Celery no-op tasks registered too.

They are imported before the worker starts, so its pool processes (forked later) know them.
"""

import sys

import bench.chains.bare  # noqa: F401 - registers the bare tasks with the Celery app
from legion_site.cli import main

if __name__ == "__main__":
    sys.exit(main(["legion", "worker", *sys.argv[1:]]))

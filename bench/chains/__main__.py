"""`python -m bench.chains`: Legion's 10-step chain against two Celery chains, then the spool; prints the table.

The peers: a bare Celery chain (no results kept) and the same chain with every task's state and result
stored in the database by django-celery-results. Legion's chain and the bare one run through the same worker
process (`legion worker`, prefork) and queue; the database-results peer through a Celery worker of its own
(same pool, concurrency and Celery settings) on a queue of its own; all on the same RabbitMQ and PostgreSQL,
in interleaved rounds. Per step: a chain's time (its first publish to its last task's body) divided by ten,
one chain at a time (latency) and with many in flight (cost under load).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.chains.environment import HOME, Worker, django_ready, environment_prepare
from bench.chains.measure import WARMUP


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.chains", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds (default 4)")
    parser.add_argument("--sequential", type=int, default=12, help="chains one at a time, per round and system")
    parser.add_argument("--burst", type=int, default=40, help="chains in flight at once, per round and system")
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's pool processes (default 2)")
    parser.add_argument("--spool-messages", type=int, default=3000, help="most messages per spool phase")
    parser.add_argument("--spool-seconds", type=float, default=4.0, help="most seconds per spool phase")
    parser.add_argument("--no-spool", action="store_true", help="skip the spool phases")
    parser.add_argument("--track-started", action="store_true",
                        help="the database-results peer also stores STARTED (a running task's state, as Legion's "
                             "row shows it)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the worker's log and print where")
    parser.add_argument("--profile", type=Path,
                        help="write a py-spy flame graph (SVG) of the worker to this file (slows the run)")
    return parser.parse_args()


def main() -> int:
    options = _options()
    if importlib.util.find_spec("django_celery_results") is None:
        print("bench: the database-results peer needs django-celery-results from requirements/dev.txt "
              "(`./legion test` installs it)", file=sys.stderr)
        return 2
    began, load_before = time.monotonic(), os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="legion-bench-chains-"))
    run_id = uuid.uuid4().hex[:8]
    queue = f"bench-chains-{run_id}"
    environment_prepare(workdir=workdir, queue=queue)
    HOME.mkdir(parents=True, exist_ok=True)
    django_ready()

    from bench.chains import report
    from bench.chains.bare import bare_chain_start
    from bench.chains.db_results import TRACK_STARTED_VARIABLE
    from bench.chains.db_results.app import db_results_chain_start, db_results_stored
    from bench.chains.legion import legion_breakdown, legion_chain_build
    from bench.chains.measure import rounds_run
    from bench.chains.profile import Profiler
    from bench.chains.spool import spool_measure

    legion = legion_chain_build()
    db_queue = f"{queue}-db-results"
    worker = Worker(module="bench.chains.worker", queue=queue, concurrency=options.concurrency,
                    log=workdir / "worker.log")
    db_worker = Worker(module="bench.chains.db_results.worker", queue=db_queue, concurrency=options.concurrency,
                       log=workdir / "worker-db-results.log",
                       env={TRACK_STARTED_VARIABLE: "1"} if options.track_started else None)  # db_results/settings.py
    key = f"bench:chains:{run_id}"
    profiler = None
    try:
        worker.wait_ready()
        db_worker.wait_ready()
        if options.profile:
            profiler = Profiler(pid=worker.process.pid, output=options.profile.resolve())
        figures = rounds_run({"legion": legion.start,
                              "celery-db": lambda mark: db_results_chain_start(mark=mark, queue=db_queue),
                              "celery": lambda mark: bare_chain_start(mark=mark, queue=queue)},
                             key=key, rounds=options.rounds, sequential_count=options.sequential,
                             burst_count=options.burst)
    finally:
        if profiler is not None:
            profiler.stop()
        worker.stop()
        db_worker.stop()  # a warm shutdown: the last tasks' results are stored before it exits
        _queue_drop(queue)
        _queue_drop(db_queue)
    spool = None if options.no_spool else spool_measure(workdir=workdir, most=options.spool_messages,
                                                          seconds=options.spool_seconds)
    breakdown = legion_breakdown(mark_prefix=f"{key}|legion-seq")
    chains = WARMUP + options.rounds * (options.sequential + options.burst)  # of each system

    print(f"\nLegion chains benchmark: a chain of ten no-op runs (a CEL condition and a CEL transformation on each "
          f"of its nine hops) against a Celery chain() of ten no-op tasks storing every result"
          f"{' and STARTED state' if options.track_started else ''} with django-celery-results and a bare one; "
          f"RabbitMQ, one `legion worker` for Legion and bare Celery and one "
          f"Celery worker for the database-results peer, {options.concurrency} pool processes each; "
          f"{options.rounds} interleaved rounds of {options.sequential} chains one at a time and {options.burst} "
          f"in flight; {time.monotonic() - began:.0f} s\n")
    print(report.table(figures, options.burst))
    print()
    for line in report.breakdown_lines(breakdown) + ([] if spool is None else report.spool_lines(spool)):
        print(line)
    print()
    for target in report.targets(figures, options.burst, breakdown, spool, db_results_stored(), chains):
        print(target.line())
    print(report.caveat(load_before, os.getloadavg()[0]))
    if options.profile:
        print(f"flame graph of the worker in {options.profile}")
    if options.keep_logs:
        print(f"worker log in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _queue_drop(queue: str) -> None:
    from django.conf import settings
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL) as connection:
        connection.default_channel.queue_delete(queue)


if __name__ == "__main__":
    sys.exit(main())

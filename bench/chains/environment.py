"""The benchmark's environment: full mode on the real services, built as `./legion test` builds the suite's.

PostgreSQL+pgvector (pgserver, database `bench`, recreated every run), Redis (database 13, emptied every
run; `LEGION_BENCH_REDIS_URL` moves it, always to an index of its own) and RabbitMQ come from
`services_ensure`; the test secrets of `legion_site.testing` stand in for production ones. The bench
extension is registered for this run only, through a `legion.extensions` entry point in a throwaway
`.dist-info` directory put on the path of the driver and of its workers, never under `extensions/`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "bench"
REDIS_URL = "redis://127.0.0.1:6379/13"
HOME = ROOT / "var" / "bench-chains"
PG_DATA = ROOT / "var" / "pgserver"  # the instance `./legion test` uses; the benchmark has a database of its own


def environment_prepare(*, workdir: Path, queue: str) -> dict[str, str]:
    """Start or check the services, point this process at them and register the bench extension.

    Must run before Django is set up: settings are read once, from the environment, on first import.
    """
    from legion_site.devservices import DEFAULT_BROKER_URL, services_ensure
    from legion_site.testing import TEST_SECRETS

    services = services_ensure(PG_DATA, database=DATABASE,
                               redis_url=os.environ.get("LEGION_BENCH_REDIS_URL", REDIS_URL),
                               broker_url=os.environ.get("LEGION_BENCH_BROKER_URL", DEFAULT_BROKER_URL))
    entry_points = _entry_point_dir(workdir)
    sys.path.insert(0, str(entry_points))
    # A developer's legion.toml and .env must not leak in, as in `./legion test`.
    env = {**TEST_SECRETS, **services, "LEGION_MODE": "full", "LEGION_HOME": str(HOME), "LEGION_SETTINGS_FILE": "",
           "LEGION_ENV_FILE": "", "DJANGO_SETTINGS_MODULE": "legion_site.settings", "LEGION_CHAINS_QUEUE": queue,
           "PYTHONPATH": os.pathsep.join([str(entry_points), str(ROOT)]), "PYTHONUNBUFFERED": "1"}
    os.environ.update(env)
    return env


def django_ready() -> None:
    """Set Django up on a fresh bench database (a few seconds), migrated, with the registry synced.

    Fresh every run: no rows left by an earlier run skew this one, and migrations changed in the working
    tree since then cannot clash with the ones a kept database recorded.
    """
    import django
    import pgserver
    import redis
    from django.core.management import call_command

    django.setup()
    server = pgserver.get_server(PG_DATA, cleanup_mode=None)
    server.psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    server.psql(f'CREATE DATABASE "{DATABASE}"')
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # the cache (RBAC decisions, ...) of the old database
    call_command("migrate", interactive=False, verbosity=0)  # post_migrate syncs the registry and policies


def _entry_point_dir(workdir: Path) -> Path:
    """A directory holding only the metadata of a `legion-bench-chains` distribution with one entry point."""
    directory = workdir / "entry-points"
    info = directory / "legion_bench_chains-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: legion-bench-chains\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[legion.extensions]\nbench = bench.chains.extension\n")
    return directory


class Worker:
    """One worker process, `python -m <module>` (`bench.chains.worker`: `legion worker` plus the bare no-op tasks),
    on one bench queue; its log goes to a file."""

    def __init__(self, *, module: str, queue: str, concurrency: int, log: Path,
                 env: dict[str, str] | None = None) -> None:
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "--queues", queue, "--concurrency", str(concurrency)],
            cwd=ROOT, env={**os.environ, **(env or {})}, stdout=self._out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the worker did not start; its log ends with:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._out.close()


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released): connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

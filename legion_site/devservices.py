"""Services for tests and local full mode: PostgreSQL with pgvector via pgserver; Redis, RabbitMQ, Chromium.

The machine's own PostgreSQL has no pgvector, so a pgserver instance (PostgreSQL 16 + pgvector) lives
under `<home>/pgserver` and is reused across runs. Redis and RabbitMQ are the machine's: started with
their standard commands when they are installed but not answering, and reported when they cannot be.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"

REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no"]
RABBITMQ_START = ["rabbitmq-server", "-detached"]


class ServiceUnavailable(RuntimeError):
    """A service the tests need is down and could not be started."""


def postgres_ensure(data: Path, database: str) -> str:
    """Start (or reuse) the pgserver instance in `data`; return a DATABASE_URL for `database` on its socket."""
    import pgserver

    data.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data, cleanup_mode=None)
    if database not in server.psql(f"SELECT datname FROM pg_database WHERE datname = '{database}'"):
        server.psql(f'CREATE DATABASE "{database}"')
    return f"postgres://postgres@{quote(str(data), safe='')}/{database}"


def tcp_service_ensure(name: str, url: str, start: list[str], wait_seconds: float) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 0
    if _answers(host, port):
        return
    if shutil.which(start[0]) is None:
        raise ServiceUnavailable(f"{name} at {host}:{port} does not answer and {start[0]} is not installed")
    subprocess.run(start, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if _answers(host, port):
            return
        time.sleep(0.5)
    raise ServiceUnavailable(f"{name} at {host}:{port} does not answer, even after `{' '.join(start)}`")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def chromium_ensure() -> str:
    """Debian's Chromium for browser tests (Playwright drives it; no browser is ever downloaded)."""
    found = shutil.which("chromium")
    if found:
        return found
    if shutil.which("apt-get") is None:
        raise ServiceUnavailable("Chromium is not installed and there is no apt-get to install it")
    for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        subprocess.run(step, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = shutil.which("chromium")
    if found is None:
        raise ServiceUnavailable("Chromium is not installed and `apt-get install chromium` did not install it")
    return found


def services_ensure(pg_data: Path, database: str, redis_url: str, broker_url: str) -> dict[str, str]:
    """Bring up what full mode and the browser tests need; return the environment pointing Legion at it."""
    tcp_service_ensure("Redis", redis_url, REDIS_START, wait_seconds=10)
    tcp_service_ensure("RabbitMQ", broker_url, RABBITMQ_START, wait_seconds=90)
    return {
        "LEGION_CHROMIUM": chromium_ensure(),
        "DATABASE_URL": postgres_ensure(pg_data, database),
        "REDIS_URL": redis_url,
        "BROKER_URL": broker_url,
    }

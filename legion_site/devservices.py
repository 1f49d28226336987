"""Services for tests and local full mode: PostgreSQL with pgvector via pgserver; Redis, RabbitMQ, Chromium,
and the coding-agent CLIs (Claude Code, Codex) the proxy's end-to-end tests run.

The machine's own PostgreSQL has no pgvector, so a pgserver instance (PostgreSQL 16 + pgvector) lives
under `<home>/pgserver` and is reused across runs. Redis and RabbitMQ are the machine's: started with
their standard commands when they are installed but not answering, and reported when they cannot be.
"""

from __future__ import annotations

import hashlib
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


# Both CLIs ship native binaries (Codex's Rust build and Claude Code's as platform optional dependencies);
# node runs only Codex's launcher and Claude Code's postinstall, which copies its binary into place. Claude Code
# declares node >= 22 but that install step works on 20, the oldest release line still maintained.
CLIENTS_MIN_NODE = 20
CLIENT_BINS = {"LEGION_CLAUDE_BIN": "claude", "LEGION_CODEX_BIN": "codex"}


def clients_ensure(manifest: Path, target: Path) -> dict[str, str]:
    """Install the CLIs pinned in `manifest` (package.json + package-lock.json) into `target`; return their paths.

    `npm ci` runs only when `target` holds no install of exactly these pins (a stamp names their hash), so
    an unchanged checkout costs two file reads. Each binary answers `--version` before the stamp is written.
    """
    target = target.absolute()  # the CLIs are started from other working directories
    files = [manifest / "package.json", manifest / "package-lock.json"]
    pins = hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()[:16]
    stamp = target / f".legion-clients-{pins}"
    bins = {name: target / "node_modules" / ".bin" / command for name, command in CLIENT_BINS.items()}
    if not stamp.exists():
        _node_check()
        # Stale stamps go first: a failed install of new pins must not pass for a whole install of the old.
        for stale in target.glob(".legion-clients-*"):
            stale.unlink()
        _clients_install(files, target)
        stamp.touch()
    return {name: str(path) for name, path in bins.items()}


def _node_check() -> None:
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise ServiceUnavailable("node and npm are needed to install the coding-agent CLIs and are not installed")
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False, timeout=30)
    major = version.stdout.strip().lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < CLIENTS_MIN_NODE:
        raise ServiceUnavailable(f"node {version.stdout.strip() or '?'} is too old for the coding-agent CLIs; "
                                 f"{CLIENTS_MIN_NODE} or newer is needed")


def _clients_install(files: list[Path], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, target / path.name)
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                          capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        raise ServiceUnavailable(f"`npm ci` of the coding-agent CLIs in {target} failed: "
                                 f"{(done.stderr or done.stdout).strip()[-600:]}")
    for command in CLIENT_BINS.values():
        path = target / "node_modules" / ".bin" / command
        try:
            probe = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=False, timeout=60)
        except OSError as exc:
            raise ServiceUnavailable(f"`npm ci` in {target} left no runnable {command}: {exc}") from exc
        if probe.returncode != 0:
            raise ServiceUnavailable(f"{path} was installed but does not run: {probe.stderr.strip()[-300:]}")


def services_ensure(pg_data: Path, database: str, redis_url: str, broker_url: str,
                    clients: tuple[Path, Path] | None = None) -> dict[str, str]:
    """Bring up what full mode and the browser tests need; return the environment pointing Legion at it.

    `clients`, for the suite, is (the pinned npm manifest, the folder to install the coding-agent CLIs into).
    """
    tcp_service_ensure("Redis", redis_url, REDIS_START, wait_seconds=10)
    tcp_service_ensure("RabbitMQ", broker_url, RABBITMQ_START, wait_seconds=90)
    return {
        **(clients_ensure(*clients) if clients else {}),
        "LEGION_CHROMIUM": chromium_ensure(),
        "DATABASE_URL": postgres_ensure(pg_data, database),
        "REDIS_URL": redis_url,
        "BROKER_URL": broker_url,
    }

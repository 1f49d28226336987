"""Dependency checks behind /readyz and `legion doctor`: each names the service and what is wrong."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.utils.module_loading import import_string

CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0
    warning: bool = False  # ok, but worth a look: reported, never a 503 or a failing doctor


def url_redact(url: str) -> str:
    """Hide the password in a service URL so it can be printed."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def broker_label(url: str) -> str:
    scheme = urlsplit(url).scheme
    return {"amqp": "RabbitMQ", "amqps": "RabbitMQ", "pyamqp": "RabbitMQ", "redis": "Redis broker",
            "rediss": "Redis broker", "filesystem": "filesystem broker"}.get(scheme, f"{scheme} broker")


def check_database() -> CheckResult:
    vendor = connection.vendor
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        connection.close()
    except Exception as exc:  # noqa: BLE001 - any driver error means "down"; the message says which
        return CheckResult("database", False, f"{vendor} unreachable: {first_line(exc)}")
    return CheckResult("database", True, f"{vendor} {connection.settings_dict.get('NAME')}")


def check_pgvector() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
        connection.close()
    except Exception as exc:  # noqa: BLE001
        return CheckResult("pgvector", False, f"cannot query PostgreSQL: {first_line(exc)}")
    if row is None:
        return CheckResult("pgvector", False, "extension 'vector' is not installed in this database (run migrations)")
    return CheckResult("pgvector", True, f"vector {row[0]}")


def check_broker() -> CheckResult:
    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    label = broker_label(url)
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    try:
        with Connection(url, connect_timeout=2, transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return CheckResult("broker", False, f"{label} at {url_redact(url)} unreachable: {first_line(exc)}")
    return CheckResult("broker", True, f"{label} at {url_redact(url)}")


def check_cache() -> CheckResult:
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    label = "Redis" if "Redis" in backend else "local-memory cache"
    try:
        cache.set("legion:health", "1", 10)
        ok = cache.get("legion:health") == "1"
    except Exception as exc:  # noqa: BLE001
        return CheckResult("cache", False, f"{label} unreachable: {first_line(exc)}")
    return CheckResult("cache", ok, label if ok else f"{label} did not return what was stored")


def check_channel_layer() -> CheckResult:
    import redis

    url = settings.CONFIG["redis.url"]
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001
        return CheckResult("channel layer", False, f"Redis at {url_redact(url)} unreachable: {first_line(exc)}")
    return CheckResult("channel layer", True, f"Redis at {url_redact(url)}")


def check_spool() -> CheckResult:
    directory = Path(settings.CONFIG["spool.dir"])
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return CheckResult("spool", False, f"{directory} cannot be created: {exc.strerror}")
    if not os.access(directory, os.W_OK):
        return CheckResult("spool", False, f"{directory} is not writable")
    files = list(directory.glob("*.jsonl"))
    size = sum(f.stat().st_size for f in files)
    return CheckResult("spool", True, f"{directory}: {len(files)} file(s), {size} bytes waiting")


def checks_run(checks: list[Callable[[], CheckResult]] | None = None) -> list[CheckResult]:
    """Run the checks side by side so one hung service costs one timeout, not the sum of them.

    By default, those of the function the LEGION_READINESS_CHECKS setting names: the composition root lists them,
    since some (the proxy's) live on a floor above this module.
    """
    checks = checks or import_string(settings.LEGION_READINESS_CHECKS)()
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        futures = [(check, pool.submit(_timed, check)) for check in checks]
        results = []
        for check, future in futures:
            try:
                results.append(future.result(timeout=CHECK_TIMEOUT_SECONDS + 2))
            except TimeoutError:
                name = check.__name__.removeprefix("check_").replace("_", " ")
                results.append(CheckResult(name, False, f"no answer within {CHECK_TIMEOUT_SECONDS + 2:.0f}s"))
    return results


def _timed(check: Callable[[], CheckResult]) -> CheckResult:
    started = time.monotonic()
    try:
        result = check()
    finally:
        connections.close_all()  # this pool thread's: left open, they outlive the request and block the database
    return dataclasses.replace(result, seconds=time.monotonic() - started)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

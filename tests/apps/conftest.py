"""Fixtures of every app's tests: a setting overridden for one test; for every test its own spool directory, queue
name and process publisher; a synced registry, principals that may or may not execute, and real workers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings

from apps.runners.services import registry_sync
from tests.apps.jobs import principal_with
from tests.apps.processes import LegionProcess


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Any], None]:
    """Override one Legion setting for this test."""

    def override(key: str, value: Any) -> None:
        monkeypatch.setitem(settings.CONFIG.values, key, value)  # type: ignore[index]

    return override


@pytest.fixture(autouse=True)
def isolated_spool(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own spool directory and queue name, and a fresh process publisher."""
    from apps.core.spool.publisher import publisher

    monkeypatch.setitem(settings.CONFIG.values, "spool.dir", str(tmp_path / "spool"))  # type: ignore[index]
    monkeypatch.setitem(settings.CONFIG.values, "chains.queue", f"legion-test-{uuid.uuid4().hex[:12]}")  # type: ignore[index]
    publisher.cache_clear()
    yield
    publisher.cache_clear()


@pytest.fixture
def queue() -> Iterator[str]:
    """This test's own queue (`chains.queue`), deleted from RabbitMQ afterwards."""
    from kombu import Connection

    name = settings.CONFIG["chains.queue"]
    yield name
    with Connection(settings.CELERY_BROKER_URL) as connection:
        connection.default_channel.queue_delete(name)


@pytest.fixture
def registry(db: None) -> None:
    registry_sync()


@pytest.fixture
def operator(db: None) -> Any:
    """A principal holding the built-in operator policy (may execute every runner function)."""
    return principal_with("ops", "operator")


@pytest.fixture
def observer(db: None) -> Any:
    """A principal that may read but not execute."""
    return principal_with("watcher", "observer")


@pytest.fixture
def worker_process(transactional_db: None) -> Iterator[Callable[..., LegionProcess]]:
    """Start real worker processes (they share this test's queue); all are stopped afterwards."""
    from kombu import Connection

    started: list[LegionProcess] = []

    def start(concurrency: int = 2) -> LegionProcess:
        worker = LegionProcess("worker", "--queues", settings.CONFIG["chains.queue"],
                               "--concurrency", str(concurrency))
        started.append(worker)
        worker.wait_for("ready.")
        return worker

    yield start
    for worker in started:
        worker.stop()
    with Connection(settings.CELERY_BROKER_URL) as connection:
        connection.default_channel.queue_delete(settings.CONFIG["chains.queue"])

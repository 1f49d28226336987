"""Fixtures of the job engine, its triggers and the spool: a setting overridden for one test, and for every test
its own spool directory, queue name and process publisher."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings


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

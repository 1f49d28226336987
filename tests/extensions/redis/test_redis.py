"""The redis extension on the suite's real Redis (the test run's REDIS_URL database), under keys of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.conf import settings

from apps.chains.models import RunStatus, TaskRun
from tests.extensions.conftest import principal_with
from tests.support import free_port, wait_until

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]


@pytest.fixture
def store(config: Callable[[str, Any], None]) -> Iterator[tuple[redis.Redis, str]]:
    """(a client of the test Redis, a key prefix of this test); the database is declared as connection `main`."""
    url = settings.CONFIG["redis.url"]
    config("extensions.redis.connections", {"main": url})
    client = redis.Redis.from_url(url)
    prefix = f"legion-test:{uuid.uuid4().hex[:10]}:"
    try:
        yield client, prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def operator(db: None) -> Any:
    return principal_with("ops", "operator")


def test_set_then_get_round_trips_a_value(runner: Callable[..., TaskRun], store: tuple[redis.Redis, str],
                                          operator: Any) -> None:
    client, prefix = store
    stored = runner("redis.kv.set", {"connection": "main", "key": prefix + "greeting", "value": "héllo"}, operator)
    got = runner("redis.kv.get", {"connection": "main", "key": prefix + "greeting"}, operator)
    missing = runner("redis.kv.get", {"connection": "main", "key": prefix + "nothing"}, operator)

    assert stored.status == RunStatus.SUCCEEDED and stored.result == {"key": prefix + "greeting", "stored": True}
    assert client.get(prefix + "greeting") == "héllo".encode()
    assert got.result == {"key": prefix + "greeting", "found": True, "value": "héllo"}
    assert missing.result == {"key": prefix + "nothing", "found": False, "value": None}


def test_set_with_a_ttl_expires_and_only_if_absent_keeps_the_first(runner: Callable[..., TaskRun],
                                                                  store: tuple[redis.Redis, str],
                                                                  operator: Any) -> None:
    client, prefix = store
    runner("redis.kv.set", {"connection": "main", "key": prefix + "lease", "value": "a", "ttl_seconds": 30}, operator)
    second = runner("redis.kv.set", {"connection": "main", "key": prefix + "lease", "value": "b",
                                     "only_if_absent": True}, operator)

    assert second.result == {"key": prefix + "lease", "stored": False}
    assert client.get(prefix + "lease") == b"a"
    assert 0 < client.ttl(prefix + "lease") <= 30


def test_publish_reaches_a_subscriber(runner: Callable[..., TaskRun], store: tuple[redis.Redis, str],
                                      operator: Any) -> None:
    client, prefix = store
    subscriber = client.pubsub()
    subscriber.subscribe(prefix + "events")
    assert subscriber.get_message(timeout=2)["type"] == "subscribe"  # type: ignore[index]

    run = runner("redis.pubsub.publish", {"connection": "main", "channel": prefix + "events",
                                          "message": '{"job": "done"}'}, operator)

    message = wait_until(lambda: subscriber.get_message(timeout=0.5), timeout=5, what="the published message")
    subscriber.close()
    assert run.status == RunStatus.SUCCEEDED and run.result == {"channel": prefix + "events", "receivers": 1}
    assert message["data"] == b'{"job": "done"}'


def test_a_command_redis_refuses_fails_the_run(runner: Callable[..., TaskRun], store: tuple[redis.Redis, str],
                                               operator: Any) -> None:
    client, prefix = store
    client.rpush(prefix + "list", "x")
    run = runner("redis.kv.get", {"connection": "main", "key": prefix + "list"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "redis_error"


def test_an_unknown_connection_is_refused(runner: Callable[..., TaskRun], operator: Any) -> None:
    run = runner("redis.kv.get", {"connection": "main", "key": "k"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "unknown_connection"


def test_an_unreachable_server_is_retried(runner: Callable[..., TaskRun], operator: Any,
                                          config: Callable[[str, Any], None]) -> None:
    config("extensions.redis.connections", {"down": f"redis://127.0.0.1:{free_port()}/0"})
    run = runner("redis.kv.get", {"connection": "down", "key": "k"}, operator)
    assert run.status == RunStatus.QUEUED and run.error is not None and run.error["code"] == "function_error"

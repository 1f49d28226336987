"""Subscription actors on the real RabbitMQ: a run per message, acked after commit, dead letters past the threshold."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError
from kombu import Connection, Exchange

from apps.actors.models import Actor
from apps.chains.models import TaskRun
from tests.support import queue_taken, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def names() -> Iterator[dict[str, str]]:
    """A queue, its dead-letter queue and an exchange of this test's own, deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    made = {"queue": f"legion-test-sub-{tag}", "dead": f"legion-test-sub-{tag}.dead", "exchange": f"legion-test-{tag}"}
    yield made
    with Connection(settings.CELERY_BROKER_URL) as connection:
        channel = connection.default_channel
        for queue in (made["queue"], made["dead"]):
            channel.queue_delete(queue)
        channel.exchange_delete(made["exchange"])


def publish(body: Any, *, queue: str = "", exchange: str = "", routing_key: str = "", message_id: str | None = None,
            content_type: str = "application/json") -> None:
    with Connection(settings.CELERY_BROKER_URL) as connection:
        producer = connection.Producer()
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        producer.publish(raw, exchange=exchange, routing_key=routing_key or queue, content_type=content_type,
                         content_encoding="utf-8", message_id=message_id or uuid.uuid4().hex)


def dead_letters(queue: str, expected: int, timeout: float = 10.0) -> list[tuple[bytes, dict[str, Any]]]:
    return [(message.body if isinstance(message.body, bytes) else message.body.encode(), dict(message.headers))
            for message in queue_taken(queue, expected, timeout)]


def consuming(queue: str) -> bool:
    """Whether `queue` has a consumer: kombu declares a consumer's queue and binding before it consumes."""
    with Connection(settings.CELERY_BROKER_URL) as connection:
        try:
            return int(connection.default_channel.queue_declare(queue=queue, passive=True).consumer_count) > 0
        except connection.channel_errors:  # not declared yet
            return False


def subscribe(make_actor: Callable[..., Actor], running: Callable[..., Any], **options: Any) -> Actor:
    actor = make_actor("subscription", payload={}, options={"retry_threshold": 2, **options})
    running(actor)
    wait_until(lambda: consuming(options["queue"]), timeout=10, what="the actor to consume its queue")
    return actor


def test_each_message_starts_a_run_once(
    make_actor: Callable[..., Actor], running: Callable[..., Any], names: dict[str, str], queue: str
) -> None:
    subscribe(make_actor, running, queue=names["queue"])
    publish({"message": "first"}, queue=names["queue"], message_id="m-1")
    publish({"message": "first"}, queue=names["queue"], message_id="m-1")  # redelivered / sent twice
    publish({"message": "second", "level": "warning"}, queue=names["queue"], message_id="m-2")
    wait_until(lambda: TaskRun.objects.count() == 2, timeout=10, what="two runs")
    time.sleep(0.5)  # time for a third run, which must not come
    runs = {run.idempotency_key: run.payload for run in TaskRun.objects.all()}
    assert runs == {"actor:subscription-actor:m-1": {"message": "first"},
                    "actor:subscription-actor:m-2": {"message": "second", "level": "warning"}}


def test_a_routing_key_binding_picks_the_messages(
    make_actor: Callable[..., Actor], running: Callable[..., Any], names: dict[str, str], queue: str
) -> None:
    with Connection(settings.CELERY_BROKER_URL) as connection:
        Exchange(names["exchange"], type="topic", durable=True)(connection.default_channel).declare()
    subscribe(make_actor, running, queue=names["queue"], exchange=names["exchange"], routing_key="orders.*")
    publish({"message": "order"}, exchange=names["exchange"], routing_key="orders.created")
    publish({"message": "user"}, exchange=names["exchange"], routing_key="users.created")
    wait_until(lambda: TaskRun.objects.count() == 1, timeout=10, what="the order's run")
    time.sleep(0.5)  # time for the user's run, which must not come
    assert [run.payload for run in TaskRun.objects.all()] == [{"message": "order"}]


def test_a_message_that_can_never_start_a_run_is_dead_lettered_at_once(
    make_actor: Callable[..., Actor], running: Callable[..., Any], names: dict[str, str], queue: str
) -> None:
    subscribe(make_actor, running, queue=names["queue"])
    publish(b"not json", queue=names["queue"], content_type="text/plain")
    publish({"unknown_field": 1}, queue=names["queue"])
    letters = dead_letters(names["dead"], 2)
    reasons = sorted(headers["x-death-reason"].split(":")[0] for _, headers in letters)
    assert reasons == ["Unacceptable", "validation_error"]
    assert sorted(body for body, _ in letters) == [b"not json", b'{"unknown_field": 1}']
    assert not TaskRun.objects.exists()


def test_a_transient_failure_is_retried_then_dead_lettered(
    make_actor: Callable[..., Actor], running: Callable[..., Any], names: dict[str, str],
    monkeypatch: pytest.MonkeyPatch, queue: str,
) -> None:
    import apps.actors.subscription as subscription

    attempts: list[str] = []

    def database_down(**kwargs: Any) -> Any:
        attempts.append(kwargs["idempotency_key"])
        raise OperationalError("the database is away")

    monkeypatch.setattr(subscription, "actor_fire", database_down)
    subscribe(make_actor, running, queue=names["queue"])
    publish({"message": "later"}, queue=names["queue"], message_id="m-9")
    [(body, headers)] = dead_letters(names["dead"], 1)
    assert json.loads(body) == {"message": "later"}
    assert headers["x-retry-count"] == 2 and headers["x-death-reason"].startswith("failed 3 times")
    assert attempts == ["actor:subscription-actor:m-9"] * 3

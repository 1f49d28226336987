"""Subscription: consume a queue (optionally bound to an exchange by routing key); each message starts a run.

Manual acknowledgement: a message is acked only after its run is committed (the run's idempotency
key is `actor:<name>:<message id>`, so a message redelivered after a crash starts nothing new). A
message that can never start a run (not a JSON object, fails the function's schema, refused by RBAC,
chain disabled) is dead-lettered at once. Any other failure (database down, say) republishes the
message with `x-retry-count` + 1 after a short pause; past the threshold (`retry_threshold`, default
`actors.retry_threshold`) it is dead-lettered. Dead letters go to `<queue>.dead` with `x-death-reason`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Any, Literal

import pydantic
from django.conf import settings
from django.db import close_old_connections
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.message import Message

from apps.actors.base import ActorSnapshot, ActorType
from apps.actors.firing import actor_error, actor_fire
from apps.core.errors import ApplicationError
from apps.runners.definitions import FunctionInputError

logger = logging.getLogger(__name__)


class SubscriptionOptions(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    queue: str = pydantic.Field(min_length=1, max_length=200, description="queue to consume (declared durable)")
    exchange: str = pydantic.Field("", description="exchange to bind the queue to (empty: none)")
    exchange_type: Literal["topic", "direct", "fanout"] = "topic"
    routing_key: str = pydantic.Field("#", description="binding key when an exchange is given")
    prefetch: int = pydantic.Field(2, ge=1, le=1000, description="unacknowledged messages held at once")
    retry_threshold: int | None = pydantic.Field(None, ge=0, description="default actors.retry_threshold")
    dead_letter_queue: str = pydantic.Field("", description="default <queue>.dead")

    @property
    def dead_letter(self) -> str:
        return self.dead_letter_queue or f"{self.queue}.dead"


class Unacceptable(Exception):
    """A message that cannot start a run however often it is retried."""


class Subscription(ActorType):
    kind = "subscription"
    Options = SubscriptionOptions

    def run(self, actor: ActorSnapshot, stop: threading.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            try:
                with Connection(settings.CELERY_BROKER_URL,
                                transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})) as conn:
                    conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=5)
                    backoff = 1.0
                    self._consume(actor, conn, stop)
            except Exception as exc:  # noqa: BLE001 - broker gone: reconnect with backoff, forever
                logger.warning("actor %s: broker connection lost (%s); reconnecting in %.0fs",
                               actor.name, exc, backoff)
                actor_error(actor_id=actor.id, exc=exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _consume(self, actor: ActorSnapshot, conn: Connection, stop: threading.Event) -> None:
        options: SubscriptionOptions = actor.options
        channel = conn.channel()
        Queue(options.dead_letter, durable=True, channel=channel).declare()
        producer = Producer(channel)
        threshold = settings.CONFIG["actors.retry_threshold"] if options.retry_threshold is None \
            else options.retry_threshold

        def on_message(message: Message) -> None:
            self.handle(actor, message, producer=producer, threshold=threshold, stop=stop)

        with Consumer(channel, queues=[subscription_queue(options)], on_message=on_message, no_ack=False,
                      prefetch_count=options.prefetch):
            logger.info("actor %s: consuming %s", actor.name, options.queue)
            while not stop.is_set():
                try:
                    conn.drain_events(timeout=1)
                except TimeoutError:
                    conn.heartbeat_check()

    def handle(self, actor: ActorSnapshot, message: Message, *, producer: Producer, threshold: int,
               stop: threading.Event) -> str:
        """Settle one message: "started", "retried" or "dead_lettered"; it is acked in every case."""
        options: SubscriptionOptions = actor.options
        close_old_connections()
        headers = dict(message.headers or {})
        retries = int(headers.get("x-retry-count", 0) or 0)
        message_id = message.properties.get("message_id") or hashlib.sha256(message.body or b"").hexdigest()
        try:
            payload = message_payload(message)
            actor_fire(actor=actor, payload=payload, idempotency_key=f"actor:{actor.name}:{message_id}",
                       validate=True)
        except (Unacceptable, ApplicationError, FunctionInputError) as exc:
            outcome = self._forward(message, producer, options.dead_letter, headers, message_id,
                                    {"x-death-reason": _reason(exc), "x-actor": actor.name})
        except Exception as exc:  # noqa: BLE001 - transient (database, broker): retry, then dead-letter
            actor_error(actor_id=actor.id, exc=exc)
            if retries >= threshold:
                outcome = self._forward(message, producer, options.dead_letter, headers, message_id,
                                        {"x-death-reason": f"failed {retries + 1} times: {_reason(exc)}",
                                         "x-actor": actor.name})
            else:
                stop.wait(min(0.5 * 2 ** retries, 5.0))
                self._forward(message, producer, options.queue, headers, message_id, {"x-retry-count": retries + 1})
                outcome = "retried"
        else:
            outcome = "started"
        message.ack()
        return outcome

    @staticmethod
    def _forward(message: Message, producer: Producer, queue: str, headers: dict[str, Any], message_id: str,
                 extra: dict[str, Any]) -> str:
        # The raw body with its content type: the copy is byte for byte the message that came in.
        producer.publish(
            message.body, exchange="", routing_key=queue, headers={**headers, **extra},
            content_type=message.content_type, content_encoding=message.content_encoding, delivery_mode=2,
            message_id=message_id,
        )
        if "x-death-reason" in extra:
            logger.warning("dead-lettered a message to %s: %s", queue, extra["x-death-reason"])
            return "dead_lettered"
        return "retried"


def subscription_queue(options: SubscriptionOptions) -> Queue:
    if not options.exchange:
        return Queue(options.queue, durable=True)
    exchange = Exchange(options.exchange, type=options.exchange_type, durable=True)
    return Queue(options.queue, exchange=exchange, routing_key=options.routing_key, durable=True)


def message_payload(message: Message) -> dict[str, Any]:
    """The message body as a JSON object, whatever content type it was sent with."""
    body = message.body
    try:
        value = json.loads(body.decode() if isinstance(body, bytes) else body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unacceptable(f"the message is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise Unacceptable(f"the message is JSON {type(value).__name__}, not an object")
    return value


def _reason(exc: Exception) -> str:
    code = getattr(exc, "code", None) or ("validation_error" if isinstance(exc, FunctionInputError) else "")
    return f"{code}: {exc}" if code else f"{type(exc).__name__}: {exc}"

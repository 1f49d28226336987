"""The one publisher: every Celery message of the job engine leaves through `publish`, or waits in the spool.

A publish that cannot be confirmed by the broker within `spool.publish_timeout_ms` per step is
written to the disk spool and reported as "spooled"; the caller never waits on a hung broker for
more than about a second. After a failure the publisher spools at once for `spool.retry_after_ms`
(no point timing out again on every call), and a background drainer replays the spool oldest-first
as soon as the broker answers. Messages carry only ids, and every consumer is idempotent, so a
message replayed twice changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from celery import Celery, current_app
from django.conf import settings
from kombu import Connection

from apps.core.spool.store import Spool, SpoolLimits

logger = logging.getLogger(__name__)

Outcome = Literal["published", "spooled"]


Message = dict[str, Any]


@dataclass
class _Line:
    """One thread's broker connection, its producer, and what it sent that the broker has not confirmed yet.

    With confirms (RabbitMQ) the channel numbers every publish from 1; the broker acknowledges them by
    number, several at once when `multiple` is set, or refuses them (nack).
    """

    connection: Connection
    producer: Any
    confirms: bool
    sent: int = 0
    unconfirmed: dict[int, Message] = field(default_factory=dict)
    refused: list[Message] = field(default_factory=list)

    def on_ack(self, delivery_tag: int, multiple: bool) -> None:
        for tag in self._tags(delivery_tag, multiple):
            del self.unconfirmed[tag]

    def on_nack(self, delivery_tag: int, multiple: bool) -> None:
        for tag in self._tags(delivery_tag, multiple):
            self.refused.append(self.unconfirmed.pop(tag))

    def _tags(self, delivery_tag: int, multiple: bool) -> list[int]:
        if multiple:
            return [tag for tag in self.unconfirmed if tag <= delivery_tag]
        return [delivery_tag] if delivery_tag in self.unconfirmed else []


@dataclass
class Publisher:
    app: Celery  # handed in, not imported: the spool sits below the site that composes the Celery app
    broker_url: str
    transport_options: dict[str, Any]
    spool: Spool
    timeout: float
    retry_after: float
    drain_interval: float
    _local: threading.local = field(default_factory=threading.local)
    _down_until: float = 0.0
    _drainer: threading.Thread | None = None
    _drainer_lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(
        self, *, task: str, args: list[Any], queue: str, countdown: float | None = None, message_id: str | None = None
    ) -> Outcome:
        """Hand one task message to the broker, or to the spool; never raises for a broker problem."""
        with self.batch() as batch:
            message = batch.publish(task=task, args=args, queue=queue, countdown=countdown, message_id=message_id)
        return batch.outcome(message)

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Send messages as they come and wait for the broker's confirms once, on leaving the block.

        A fan-out's children wait for one round of confirms, not one each; a message the broker refuses
        or does not confirm in time is spooled then.
        """
        batch = Batch(self)
        try:
            yield batch
        finally:
            batch.settle()

    def send(self, messages: list[Message]) -> None:
        """Publish messages, then wait for all their confirmations; raises on any failure (the drain's step)."""
        try:
            for message in messages:
                line = self._send(message)
            if messages:
                self._settle(line)
        except Exception:
            self._reset()
            raise
        if messages and line.refused:
            refused, line.refused = line.refused, []
            raise MessageRefusedError(f"the broker refused {len(refused)} message(s), {refused[0]['id']} first")

    def drain(self) -> int:
        """Replay the spool now; returns how many were sent. Raises the broker's error if it is still down."""
        sent = self.spool.drain(self.send)
        if sent:
            logger.info("spool: replayed %d message(s)", sent)
        self._down_until = 0.0
        return sent

    def drainer_ensure(self) -> None:
        """Start this process's drainer thread if it is not running (a forked child starts its own)."""
        with self._drainer_lock:
            if self._drainer is not None and self._drainer.is_alive():
                return
            self._drainer = threading.Thread(target=self._drain_forever, name="legion-spool-drainer", daemon=True)
            self._drainer.start()

    def _drain_forever(self) -> None:
        while True:
            time.sleep(self.drain_interval)
            if not self.spool.files():
                continue
            try:
                self.drain()
            except Exception as exc:  # noqa: BLE001 - broker still down: try again next interval
                logger.info("spool drainer: broker not back yet (%s)", type(exc).__name__)
                self._reset()

    def _send(self, message: Message) -> _Line:
        """Write one message to this thread's connection without waiting for its confirmation."""
        line = self._line()
        eta = datetime.fromtimestamp(message["eta"], UTC) if message.get("eta") else None
        if line.confirms:
            # Noted before sending: the broker's ack can be read while send_task is still returning.
            line.sent += 1
            line.unconfirmed[line.sent] = message
        self.app.send_task(message["task"], args=message["args"], queue=message["queue"], eta=eta,
                           task_id=message["id"], producer=line.producer, retry=False, timeout=self.timeout)
        return line

    def _settle(self, line: _Line) -> None:
        """Read the broker's confirms until none is outstanding; raises TimeoutError past the deadline."""
        deadline = time.monotonic() + self.timeout
        while line.unconfirmed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(line.unconfirmed)} message(s) not confirmed within {self.timeout:.1f}s")
            # One frame at a time: py-amqp's drain_events would go on waiting for a message after an ack.
            line.connection.connection.blocking_read(timeout=left)

    def _spool(self, message: Message) -> Outcome:
        self.spool.append(message)
        self.drainer_ensure()
        return "spooled"

    def _failed(self, what: str, exc: Exception) -> None:
        logger.warning("%s failed (%s: %s); spooling", what, type(exc).__name__, exc)
        self._down_until = time.monotonic() + self.retry_after
        self._reset()

    def _line(self) -> _Line:
        line: _Line | None = getattr(self._local, "line", None)
        if line is None:
            connection = Connection(self.broker_url, connect_timeout=self.timeout,
                                    transport_options=self.transport_options)
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=self.timeout)
            producer = connection.Producer()
            confirms = connection.transport.driver_type == "amqp"
            line = _Line(connection=connection, producer=producer, confirms=confirms)
            if confirms:
                channel = producer.channel
                channel.confirm_select()
                channel.events["basic_ack"].add(line.on_ack)
                channel.events["basic_nack"].add(line.on_nack)
            self._local.line = line
        return line

    def _reset(self) -> None:
        line: _Line | None = getattr(self._local, "line", None)
        self._local.line = None
        if line is not None:
            try:
                line.connection.release()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail; it is dropped either way
                pass


class MessageRefusedError(Exception):
    """The broker answered a publish with a nack."""


class Batch:
    """The messages of one `Publisher.batch()` block and, once it is left, what became of each."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher
        self._line: _Line | None = None
        self._spooled: set[str] = set()

    def publish(self, *, task: str, args: list[Any], queue: str, countdown: float | None = None,
                message_id: str | None = None) -> Message:
        """Send (or spool) one message now; its confirmation is awaited when the block ends."""
        eta = time.time() + countdown if countdown else None
        message = {"id": message_id or str(uuid.uuid4()), "task": task, "args": args, "queue": queue, "eta": eta}
        publisher = self._publisher
        if time.monotonic() < publisher._down_until:
            self._spool(message)
            return message
        try:
            self._line = publisher._send(message)
        except Exception as exc:  # noqa: BLE001 - whatever the broker or socket raised, the message must not be lost
            self._line = getattr(publisher._local, "line", None)
            self._give_up(f"publish of {task}", exc)
            self._spool(message)
        return message

    def outcome(self, message: Message) -> Outcome:
        return "spooled" if message["id"] in self._spooled else "published"

    def settle(self) -> None:
        """Wait for the confirms of what this block sent; spool what the broker refused or left unconfirmed."""
        line = self._line
        if line is None or not line.unconfirmed and not line.refused:
            return
        try:
            self._publisher._settle(line)
        except Exception as exc:  # noqa: BLE001 - no confirmation in time: spooled, possibly twice (ids make it safe)
            self._give_up("confirmation", exc)
        for message in line.refused:
            logger.warning("the broker refused message %s; spooling", message["id"])
            self._spool(message)
        line.refused.clear()

    def _give_up(self, what: str, exc: Exception) -> None:
        """The line is broken: whatever it sent without a confirmation yet goes to the spool too."""
        line, self._line = self._line, None
        if line is not None:
            for message in line.unconfirmed.values():
                self._spool(message)
            line.unconfirmed.clear()
        self._publisher._failed(what, exc)

    def _spool(self, message: Message) -> None:
        if message["id"] not in self._spooled:
            self._publisher._spool(message)
            self._spooled.add(message["id"])


def publisher_build(*, app: Celery, broker_url: str, spool_dir: Path) -> Publisher:
    config = settings.CONFIG
    timeout = config["spool.publish_timeout_ms"] / 1000
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}))
    if broker_url.startswith(("amqp", "pyamqp")):
        # Socket timeouts bound every read and write, so a broker that accepts and then hangs cannot block us.
        # Confirms are asked for by the publisher itself (`_Line`), so that it need not wait for each one.
        options.pop("confirm_publish", None)
        options.update(read_timeout=timeout, write_timeout=timeout)
    limits = SpoolLimits(
        max_file_bytes=config["spool.max_file_bytes"], max_total_bytes=config["spool.max_total_bytes"],
        max_files=config["spool.max_files"], max_age_seconds=config["spool.max_age_seconds"],
    )
    return Publisher(
        app=app, broker_url=broker_url, transport_options=options, spool=Spool(spool_dir, limits), timeout=timeout,
        retry_after=config["spool.retry_after_ms"] / 1000, drain_interval=config["spool.drain_interval_seconds"],
    )


@lru_cache(maxsize=1)
def publisher() -> Publisher:
    """The process's publisher, for the configured broker and spool directory, sending through the process's
    Celery app (`legion_site` makes it the current one when Django starts, as it does for shared tasks)."""
    return publisher_build(app=current_app._get_current_object(), broker_url=settings.CELERY_BROKER_URL,
                           spool_dir=Path(settings.CONFIG["spool.dir"]))

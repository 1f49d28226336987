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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from kombu import Connection

from apps.chains.spool.store import Spool, SpoolLimits

logger = logging.getLogger(__name__)

Outcome = Literal["published", "spooled"]


@dataclass
class Publisher:
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
        eta = time.time() + countdown if countdown else None
        message = {"id": message_id or str(uuid.uuid4()), "task": task, "args": args, "queue": queue, "eta": eta}
        if time.monotonic() < self._down_until:
            return self._spool(message)
        try:
            self.send(message)
        except Exception as exc:  # noqa: BLE001 - whatever the broker or socket raised, the message must not be lost
            logger.warning("publish of %s failed (%s: %s); spooling", task, type(exc).__name__, exc)
            self._down_until = time.monotonic() + self.retry_after
            self._reset()
            return self._spool(message)
        return "published"

    def send(self, message: dict[str, Any]) -> None:
        """Publish with confirmation (in full mode) on this thread's connection; raises on any failure."""
        from legion_site.celery import app

        connection = self._connection()
        eta = datetime.fromtimestamp(message["eta"], UTC) if message.get("eta") else None
        app.send_task(
            message["task"], args=message["args"], queue=message["queue"], eta=eta, task_id=message["id"],
            producer=self._producer(connection), retry=False, timeout=self.timeout, confirm_timeout=self.timeout,
        )

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

    def _spool(self, message: dict[str, Any]) -> Outcome:
        self.spool.append(message)
        self.drainer_ensure()
        return "spooled"

    def _connection(self) -> Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = Connection(
                self.broker_url, connect_timeout=self.timeout, transport_options=self.transport_options
            )
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=self.timeout)
            self._local.connection = connection
        return connection

    def _producer(self, connection: Connection) -> Any:
        producer = getattr(self._local, "producer", None)
        if producer is None:
            producer = connection.Producer()
            self._local.producer = producer
        return producer

    def _reset(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        self._local.producer = None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail; it is dropped either way
                pass


def publisher_build(*, broker_url: str, spool_dir: Path) -> Publisher:
    config = settings.CONFIG
    timeout = config["spool.publish_timeout_ms"] / 1000
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}))
    if broker_url.startswith(("amqp", "pyamqp")):
        # Socket timeouts bound every read and write, so a broker that accepts and then hangs cannot block us.
        options.update(confirm_publish=True, read_timeout=timeout, write_timeout=timeout)
    limits = SpoolLimits(
        max_file_bytes=config["spool.max_file_bytes"], max_total_bytes=config["spool.max_total_bytes"],
        max_files=config["spool.max_files"], max_age_seconds=config["spool.max_age_seconds"],
    )
    return Publisher(
        broker_url=broker_url, transport_options=options, spool=Spool(spool_dir, limits), timeout=timeout,
        retry_after=config["spool.retry_after_ms"] / 1000, drain_interval=config["spool.drain_interval_seconds"],
    )


@lru_cache(maxsize=1)
def publisher() -> Publisher:
    """The process's publisher, for the configured broker and spool directory."""
    return publisher_build(broker_url=settings.CELERY_BROKER_URL, spool_dir=Path(settings.CONFIG["spool.dir"]))

"""The spool's rates: messages written while the broker is down, replayed once it is back, and live publishes.

"Down" is a publisher pointed at a loopback port nothing listens on (the connection is refused, as when
RabbitMQ is stopped); the replay is the drainer's `drain()` through a publisher on the real broker, over
the same spool directory. Messages go to a queue of their own that nothing consumes, deleted afterwards.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from kombu import Connection

from apps.chains.services.dispatch import EXECUTE_TASK
from apps.core.spool.publisher import Publisher, publisher_build
from bench.chains.environment import dead_port
from legion_site.celery import app as celery_app


@dataclass(frozen=True)
class SpoolFigures:
    written: int
    write_seconds: float
    replayed: int
    replay_seconds: float
    published: int
    publish_seconds: float
    arrived: int  # messages found in the queue afterwards: replayed + published, or something was lost

    @staticmethod
    def rate(count: int, seconds: float) -> float:
        return count / seconds if seconds > 0 else 0.0


def spool_measure(*, workdir: Path, most: int, seconds: float) -> SpoolFigures:
    queue = f"bench-chains-spool-{uuid.uuid4().hex[:8]}"
    directory = workdir / "spool"
    broker = urlsplit(settings.CELERY_BROKER_URL)
    netloc = broker.netloc.rsplit(":", 1)[0] if broker.port else broker.netloc
    down = publisher_build(app=celery_app, broker_url=urlunsplit(broker._replace(netloc=f"{netloc}:{dead_port()}")),
                           spool_dir=directory)
    down.drain_interval = 3600  # its own drainer would only fail against the dead port: keep it out of the timing
    up = publisher_build(app=celery_app, broker_url=settings.CELERY_BROKER_URL, spool_dir=directory)
    written, write_seconds = _publish_many(down, queue, most, seconds, expect="spooled")
    began = time.perf_counter()
    replayed = up.drain()
    replay_seconds = time.perf_counter() - began
    published, publish_seconds = _publish_many(up, queue, most, seconds, expect="published")
    arrived = _queue_drop(queue)
    return SpoolFigures(written, write_seconds, replayed, replay_seconds, published, publish_seconds, arrived)


def _publish_many(publisher: Publisher, queue: str, most: int, seconds: float, *, expect: str) -> tuple[int, float]:
    began = time.perf_counter()
    count = 0
    while count < most and time.perf_counter() - began < seconds:
        outcome = publisher.publish(task=EXECUTE_TASK, args=[str(uuid.uuid4())], queue=queue)
        if outcome != expect:
            raise RuntimeError(f"publish {count + 1} was {outcome}, expected {expect}")
        count += 1
    return count, time.perf_counter() - began


def _queue_drop(queue: str) -> int:
    """How many messages wait in `queue`; then delete it."""
    with Connection(settings.CELERY_BROKER_URL) as connection:
        channel = connection.default_channel
        _, count, _ = channel.queue_declare(queue=queue, passive=True)
        channel.queue_delete(queue)
    return int(count)

"""The one publisher against the real RabbitMQ, a dead loopback port and a broker that hangs."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from django.conf import settings

from apps.core.spool.publisher import Publisher, publisher_build
from legion_site.celery import app as celery_app
from tests.support import free_port, received

TASK = "legion.chains.run_execute"


def build(broker_url: str, spool_dir: Path) -> Publisher:
    return publisher_build(app=celery_app, broker_url=broker_url, spool_dir=spool_dir)


def test_a_publish_is_confirmed_by_the_broker(tmp_path: Path, queue: str) -> None:
    publisher = build(settings.CELERY_BROKER_URL, tmp_path)
    assert publisher.publish(task=TASK, args=["run-1"], queue=queue) == "published"
    assert received(queue, 1) == [["run-1"]]
    assert publisher.spool.files() == []


def test_an_unreachable_broker_spools_within_a_second(tmp_path: Path, queue: str) -> None:
    publisher = build(f"amqp://guest:guest@127.0.0.1:{free_port()}//", tmp_path)
    started = time.monotonic()
    assert publisher.publish(task=TASK, args=["run-1"], queue=queue) == "spooled"
    assert time.monotonic() - started < 1.0
    started = time.monotonic()
    assert publisher.publish(task=TASK, args=["run-2"], queue=queue) == "spooled"
    assert time.monotonic() - started < 0.1  # still known down: no second timeout
    assert publisher.spool.depth().messages == 2


def test_a_broker_that_accepts_and_hangs_spools_within_about_a_second(tmp_path: Path, queue: str) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # and never answer
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        publisher = build(f"amqp://guest:guest@127.0.0.1:{listener.getsockname()[1]}//", tmp_path)
        started = time.monotonic()
        assert publisher.publish(task=TASK, args=["run-1"], queue=queue) == "spooled"
        assert time.monotonic() - started < 1.5
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        listener.close()


def test_the_spool_is_replayed_oldest_first_once_the_broker_is_back(tmp_path: Path, queue: str) -> None:
    down = build(f"amqp://guest:guest@127.0.0.1:{free_port()}//", tmp_path)
    for n in range(5):
        assert down.publish(task=TASK, args=[f"run-{n}"], queue=queue) == "spooled"
    back = build(settings.CELERY_BROKER_URL, tmp_path)
    assert back.drain() == 5
    assert received(queue, 5) == [[f"run-{n}"] for n in range(5)]
    assert back.spool.files() == []


def test_the_drainer_thread_replays_without_being_asked(tmp_path: Path, queue: str) -> None:
    publisher = build(f"amqp://guest:guest@127.0.0.1:{free_port()}//", tmp_path)
    publisher.drain_interval = 0.2
    assert publisher.publish(task=TASK, args=["run-1"], queue=queue) == "spooled"
    publisher.broker_url = settings.CELERY_BROKER_URL  # the broker comes back where we look for it
    publisher.transport_options = build(settings.CELERY_BROKER_URL, tmp_path).transport_options
    assert received(queue, 1, timeout=5) == [["run-1"]]
    assert publisher.spool.files() == []


def test_a_batch_sends_everything_before_waiting_for_the_confirms(tmp_path: Path, queue: str) -> None:
    publisher = build(settings.CELERY_BROKER_URL, tmp_path)
    with publisher.batch() as batch:
        messages = [batch.publish(task=TASK, args=[f"run-{n}"], queue=queue) for n in range(200)]
        line = publisher._local.line
        assert line.unconfirmed, "still inside the block: confirms are read when it ends"
    assert not line.unconfirmed
    assert [batch.outcome(message) for message in messages] == ["published"] * 200
    assert received(queue, 200) == [[f"run-{n}"] for n in range(200)]
    assert publisher.spool.files() == []


def test_a_batch_to_a_broker_that_hangs_spools_every_message_within_about_a_second(
    tmp_path: Path, queue: str
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections into its backlog and never answers
        publisher = build(f"amqp://guest:guest@127.0.0.1:{listener.getsockname()[1]}//", tmp_path)
        started = time.monotonic()
        with publisher.batch() as batch:
            messages = [batch.publish(task=TASK, args=[f"run-{n}"], queue=queue) for n in range(20)]
        assert time.monotonic() - started < 1.5
    assert {batch.outcome(message) for message in messages} == {"spooled"}
    assert publisher.spool.depth().messages == 20

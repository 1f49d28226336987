"""Two real `legion beat` processes on Redis (the lease) and RabbitMQ: every tick sent once, takeover in the ttl.

Bounded in time: a 3 s lease, schedules every 1 s and 2 s, about 25 s in all.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from kombu import Connection

from apps.chains.services.callers import HOST
from apps.core.leases.redis_lease import KEY_PREFIX
from apps.core.spool.publisher import publisher
from apps.schedules.models import FireStatus, ScheduleFire
from apps.schedules.services import schedule_create
from tests.apps.jobs import function
from tests.apps.processes import LegionProcess

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry")]

TTL_SECONDS = 3
ACQUIRED = "beat lease acquired by "


@pytest.fixture
def beats() -> Iterator[list[LegionProcess]]:
    client = redis.Redis.from_url(settings.CONFIG["redis.url"])
    client.delete(KEY_PREFIX + "beat")
    started: list[LegionProcess] = []
    yield started
    for beat in started:
        beat.stop()
    client.delete(KEY_PREFIX + "beat")
    with Connection(settings.CELERY_BROKER_URL) as connection:
        connection.default_channel.queue_delete(settings.CONFIG["chains.queue"])


def start_beat(beats: list[LegionProcess]) -> LegionProcess:
    beat = LegionProcess("beat", env={"LEGION_SCHEDULES_LEASE_TTL_MS": str(TTL_SECONDS * 1000)})
    beats.append(beat)
    beat.wait_for("beat: Starting")
    return beat


def sent_fires(expected: int, timeout: float = 10.0) -> list[tuple[int, str]]:
    """(schedule id, tick) of every fire message in the queue, consumed."""
    bodies: list[tuple[int, str]] = []
    with Connection(settings.CELERY_BROKER_URL) as connection:
        simple = connection.SimpleQueue(settings.CONFIG["chains.queue"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = simple.get(timeout=1 if len(bodies) >= expected else 0.5)
            except simple.Empty:
                if len(bodies) >= expected:
                    break
                continue
            bodies.append(tuple(message.payload[0]))  # type: ignore[arg-type]
            message.ack()
        simple.close()
    return bodies


def test_two_beats_send_each_tick_once_and_the_standby_takes_over_within_the_lease(
    beats: list[LegionProcess], operator: Any
) -> None:
    log = function("core.basic.log")
    every_second = schedule_create(by=HOST, name="every-second", interval_seconds=1, function=log,
                                   payload={"message": "1s"}, run_as=operator, catch_up="all")
    every_two = schedule_create(by=HOST, name="every-two", interval_seconds=2, function=log,
                                payload={"message": "2s"}, run_as=operator, catch_up="all")

    first = start_beat(beats)
    first.wait_for(ACQUIRED)
    second = start_beat(beats)
    time.sleep(4)  # a window in which the standby must not take the lease (an absence: nothing to wait for)
    assert not any(ACQUIRED in line for line in second.lines), "the standby took the lease from a live beat"

    first.kill()
    killed = time.monotonic()
    took_over = second.wait_for(ACQUIRED, timeout=TTL_SECONDS + 10)
    assert took_over - killed <= TTL_SECONDS + 1.5, f"takeover took {took_over - killed:.1f}s"
    time.sleep(4)  # a window of the new leader's ticks, for the counts and gaps checked below
    second.stop()

    fires = list(ScheduleFire.objects.order_by("tick"))
    assert fires and all(fire.status == FireStatus.DISPATCHED for fire in fires)
    # A fire the broker was too slow to confirm (a loaded machine) waits in the spool the beats share with this
    # test; a beat's drainer would send it next, so send it as that drainer would before counting.
    publisher().drain()
    messages = sent_fires(len(fires))
    assert not [item for item, n in Counter(messages).items() if n > 1], "a tick was sent twice"
    assert sorted(messages) == sorted((fire.schedule_id, fire.tick.isoformat()) for fire in fires)

    for schedule, every in ((every_second, 1), (every_two, 2)):
        ticks = [fire.tick for fire in fires if fire.schedule_id == schedule.pk]
        gaps = {later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)}
        assert gaps == {timedelta(seconds=every)}, f"{schedule.name}: ticks missing or doubled: {ticks}"
        assert len(ticks) >= 8 // every

    # Ticks sent before the kill came from the first beat, those after from the second, never both.
    senders = [fire.dispatched_by for fire in fires]
    switch = senders.index(senders[-1])
    assert len(set(senders[:switch])) == 1 and set(senders[switch:]) == {senders[-1]}
    assert senders[0] != senders[-1]

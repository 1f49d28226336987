"""Singleton: an `every` actor that fires on exactly one node, the holder of its leader lease.

Every node running `legion actors` runs the timer; each tick the holder renews the lease (ttl
`lease_ttl_seconds`, by default max(3 x interval, 30 s)) and fires, the others try to take it. When
the holder dies, another node takes over within the ttl.
"""

from __future__ import annotations

import logging
import threading

import pydantic

from apps.actors.base import ActorSnapshot, timer
from apps.actors.every import Every, EveryOptions
from apps.actors.firing import actor_leader_set
from apps.core.leases import lease_build

logger = logging.getLogger(__name__)


class SingletonOptions(EveryOptions):
    lease_ttl_seconds: float | None = pydantic.Field(
        None, gt=0, description="how long a dead leader keeps the lease (default max(3 x interval, 30))"
    )


class Singleton(Every):
    kind = "singleton"
    Options = SingletonOptions

    def run(self, actor: ActorSnapshot, stop: threading.Event) -> None:
        options: SingletonOptions = actor.options
        ttl = options.lease_ttl_seconds or max(3 * options.interval_seconds, 30.0)
        lease = lease_build(f"actor:{actor.name}", ttl_ms=int(ttl * 1000))
        leading = False
        try:
            for _ in timer(stop, interval=options.interval_seconds, delay=options.delay_seconds,
                           run_now=options.run_now):
                held = lease.renew() if leading else lease.acquire()
                if held != leading:
                    logger.info("actor %s: %s the lease (%s)", actor.name, "took" if held else "lost", lease.holder)
                    actor_leader_set(actor_id=actor.id, holder=lease.holder if held else "")
                leading = held
                if leading:
                    self.tick_guarded(actor)
        finally:
            if leading:
                lease.release()
                actor_leader_set(actor_id=actor.id, holder="")

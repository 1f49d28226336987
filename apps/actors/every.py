"""Every: fire the actor's function or chain at a fixed interval; a tick is skipped while the last run goes on."""

from __future__ import annotations

import threading
import uuid
from typing import ClassVar

import pydantic
from django.db import close_old_connections

from apps.actors.base import ActorSnapshot, ActorType, timer
from apps.actors.firing import actor_error, actor_fire, actor_last_run_finished, actor_tick_skipped


class EveryOptions(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    interval_seconds: float = pydantic.Field(60.0, ge=0.1, description="time between ticks")
    run_now: bool = pydantic.Field(False, description="fire at once on start, not one interval later")
    delay_seconds: float = pydantic.Field(0.0, ge=0, description="wait this long after start before the timer")


class Every(ActorType):
    kind = "every"
    Options: ClassVar[type[pydantic.BaseModel]] = EveryOptions

    def run(self, actor: ActorSnapshot, stop: threading.Event) -> None:
        options: EveryOptions = actor.options
        for _ in timer(stop, interval=options.interval_seconds, delay=options.delay_seconds, run_now=options.run_now):
            self.tick_guarded(actor)

    def tick_guarded(self, actor: ActorSnapshot) -> None:
        """A failed tick (database away, RBAC refusal) is recorded on the actor; the timer goes on."""
        close_old_connections()
        try:
            self.tick(actor)
        except Exception as exc:  # noqa: BLE001 - see above
            actor_error(actor_id=actor.id, exc=exc)

    def tick(self, actor: ActorSnapshot) -> None:
        """Fire unless the run started by the previous tick, or any run below it, has not finished."""
        if not actor_last_run_finished(actor_id=actor.id):
            actor_tick_skipped(actor_id=actor.id)
            return
        actor_fire(actor=actor, idempotency_key=f"actor:{actor.name}:{uuid.uuid4()}")

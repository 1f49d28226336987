"""Once: fire a single time when `legion actors` starts, after a delay."""

from __future__ import annotations

import threading

import pydantic

from apps.actors.base import ActorSnapshot, ActorType
from apps.actors.firing import actor_fire
from apps.core.leases import holder_id


class OnceOptions(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    delay_seconds: float = pydantic.Field(1.0, ge=0, description="wait this long after start")


# One process start is one "once": the key keeps a restarted thread (after an edit) from firing twice.
_PROCESS = holder_id()


class Once(ActorType):
    kind = "once"
    Options = OnceOptions

    def run(self, actor: ActorSnapshot, stop: threading.Event) -> None:
        options: OnceOptions = actor.options
        if not stop.wait(options.delay_seconds):
            actor_fire(actor=actor, idempotency_key=f"actor:{actor.name}:once:{_PROCESS}:{actor.version}")

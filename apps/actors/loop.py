"""Loop: call the function continuously; an idle call (empty result) backs off, a busy one goes again at once.

Like a poll, the function runs inside `legion actors`; each non-empty result is recorded as a
succeeded run and continues the chain. Empty results (None, {}, [], "") double the wait from
`idle_backoff_min_ms` up to `idle_backoff_max_ms`; failures back off the same way.
"""

from __future__ import annotations

import threading
from typing import Any

import pydantic
from django.db import close_old_connections

from apps.actors.base import ActorSnapshot, ActorType
from apps.actors.firing import actor_call, actor_error, actor_record


class LoopOptions(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    idle_backoff_min_ms: int = pydantic.Field(100, ge=1, description="first wait after an idle call")
    idle_backoff_max_ms: int = pydantic.Field(30_000, ge=1, description="longest wait between idle calls")


class Loop(ActorType):
    kind = "loop"
    Options = LoopOptions

    def run(self, actor: ActorSnapshot, stop: threading.Event) -> None:
        options: LoopOptions = actor.options
        wait_ms = options.idle_backoff_min_ms
        while not stop.is_set():
            close_old_connections()
            try:
                call = actor_call(actor=actor)
                idle = is_idle(call.result)
                if not idle:
                    actor_record(actor=actor, call=call)
            except Exception as exc:  # noqa: BLE001 - recorded on the actor; the loop backs off and goes on
                actor_error(actor_id=actor.id, exc=exc)
                idle = True
            if not idle:
                wait_ms = options.idle_backoff_min_ms
                continue
            stop.wait(wait_ms / 1000)
            wait_ms = min(wait_ms * 2, max(options.idle_backoff_max_ms, options.idle_backoff_min_ms))


def is_idle(result: Any) -> bool:
    return result is None or (isinstance(result, dict | list | str) and len(result) == 0)

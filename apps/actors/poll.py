"""Poll: call the function at an interval and fire the chain only when its result changed.

The function runs inside `legion actors` (its result is needed to compare); a result that differs
from the last one (beyond `tolerance_percent` for numbers) is recorded as a succeeded run of the
function, and the chain continues from it like from any run. Unchanged polls leave no run. The last
result lives in the actor's state row, so a restart does not fire again for the same result, and
nodes polling the same actor compare against one value.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

import pydantic
from django.db import close_old_connections

from apps.actors.base import ActorSnapshot, ActorType, timer
from apps.actors.firing import actor_call, actor_error, actor_poll_settle

logger = logging.getLogger(__name__)


class PollOptions(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    interval_seconds: float = pydantic.Field(9.0, ge=0.1, description="time between polls")
    run_now: bool = pydantic.Field(True, description="poll at once on start")
    tolerance_percent: float = pydantic.Field(
        0.0, ge=0, description="a number that moved by at most this percent counts as unchanged"
    )


class Poll(ActorType):
    kind = "poll"
    Options = PollOptions

    def run(self, actor: ActorSnapshot, stop: threading.Event) -> None:
        options: PollOptions = actor.options
        for _ in timer(stop, interval=options.interval_seconds, run_now=options.run_now):
            close_old_connections()
            try:
                call = actor_call(actor=actor)
                actor_poll_settle(actor=actor, call=call,
                                  changed=lambda old, new: result_changed(old, new, options.tolerance_percent))
            except Exception as exc:  # noqa: BLE001 - a failed poll is recorded on the actor; the next one retries
                actor_error(actor_id=actor.id, exc=exc)


def result_changed(previous: Any, current: Any, tolerance_percent: float = 0.0) -> bool:
    """Whether `current` differs from `previous`: same shape, and every number within the tolerance."""
    if isinstance(previous, dict) and isinstance(current, dict):
        return previous.keys() != current.keys() or any(
            result_changed(previous[key], current[key], tolerance_percent) for key in previous
        )
    if isinstance(previous, list) and isinstance(current, list):
        return len(previous) != len(current) or any(
            result_changed(old, new, tolerance_percent) for old, new in zip(previous, current, strict=True)
        )
    numbers = (int, float)
    if (isinstance(previous, numbers) and isinstance(current, numbers)
            and not isinstance(previous, bool) and not isinstance(current, bool)):
        if previous == current:
            return False
        if previous == 0 or not math.isfinite(previous) or not math.isfinite(current):
            return True
        return abs(current - previous) / abs(previous) * 100 > tolerance_percent
    return bool(previous != current or type(previous) is not type(current))

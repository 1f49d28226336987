"""The protocol every actor kind implements, the snapshot its runtime works from, and a drift-free timer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pydantic


class NoOptions(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ActorSnapshot:
    """An actor as its runtime thread sees it; a changed row (new `version`) restarts the thread."""

    id: int
    name: str
    kind: str
    function_id: int | None
    chain_id: int | None
    payload: dict[str, Any]
    options: Any  # the kind's validated options model
    run_as: str | None
    version: str


class ActorType:
    """One kind of actor. `run` is the whole life of a background actor: it returns when `stop` is set."""

    kind: ClassVar[str]
    Options: ClassVar[type[pydantic.BaseModel]] = NoOptions
    # False for kinds that only act when invoked (nothing, absorber): `legion actors` starts no thread.
    background: ClassVar[bool] = True
    # Whether the actor itself names a function or chain (an absorber's handlers do instead).
    needs_target: ClassVar[bool] = True

    def run(self, actor: ActorSnapshot, stop: threading.Event) -> None:
        raise NotImplementedError


def timer(stop: threading.Event, *, interval: float, delay: float = 0.0, run_now: bool = False) -> Iterator[int]:
    """Yield at a fixed rate from `delay` on until `stop` is set.

    The schedule is start + n * interval (no drift from slow ticks); a tick that is already late when
    the previous one ends is dropped, never bunched up.
    """
    if stop.wait(delay):
        return
    start = time.monotonic()
    step = 0 if run_now else 1
    while not stop.wait(max(0.0, start + step * interval - time.monotonic())):
        yield step
        step = max(step + 1, int((time.monotonic() - start) // interval) + 1)

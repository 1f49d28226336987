"""Ten no-op steps `step_01` … `step_10`: each returns its input; the last reports the chain's end time.

Ten distinct functions rather than core's: a relationship is keyed by its trigger function, so a chain of
ten runs needs ten functions (core has five, and a self-loop on `core.basic.echo` has no entry function).
"""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from apps.runners.definitions import runner_function
from bench.chains.marks import mark_done

TRIGGER_WORDS = ("bench", "step")
STEPS = 10


class Step(TypedDict):
    n: int
    mark: str


def _step(number: int) -> Any:
    def step(n: int, mark: str) -> Step:
        if number == STEPS:
            mark_done(mark)
        return {"n": n, "mark": mark}

    step.__name__ = step.__qualname__ = f"step_{number:02d}"
    step.__doc__ = f"No-op step {number} of {STEPS}: returns its input" + (
        " and reports the chain's end." if number == STEPS else "."
    )
    return runner_function(idempotent=True, risk_tier="low", trigger_words=("step",))(step)


for _number in range(1, STEPS + 1):
    globals()[f"step_{_number:02d}"] = _step(_number)

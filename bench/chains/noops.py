"""Ten Celery no-op tasks and their `chain()`, as a Celery user writes them: the body of both Celery peers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import chain

from bench.chains.marks import mark_done

STEPS = 10


def noops_register(task: Callable[..., Callable[[Callable[..., Any]], Any]], *, prefix: str) -> list[Any]:
    """Ten tasks `<prefix>.noop_01` … `noop_10` made with the decorator factory `task` (an app's `task` or
    `shared_task`, with the peer's options bound); each returns its input, the last reports the chain's end."""

    def noop_make(number: int) -> Any:
        def noop(previous: dict[str, Any]) -> dict[str, Any]:
            if number == STEPS:
                mark_done(previous["mark"])
            return {"n": previous["n"] + 1, "mark": previous["mark"]}

        noop.__name__ = noop.__qualname__ = f"noop_{number:02d}"
        return task(name=f"{prefix}.noop_{number:02d}")(noop)

    return [noop_make(number) for number in range(1, STEPS + 1)]


def noops_chain_start(noops: list[Any], *, mark: str, queue: str) -> None:
    """Publish one chain of the ten no-ops, as a Celery user would: `chain(a.s(x), b.s(), ...).apply_async()`."""
    first, *rest = noops
    signatures = [first.s({"n": 1, "mark": mark}), *(task.s() for task in rest)]
    chain(*(signature.set(queue=queue) for signature in signatures)).apply_async()

"""Ten bare Celery no-op tasks, the baseline: what a `chain()` of them costs per step on the same broker and worker."""

from __future__ import annotations

from typing import Any

from celery import chain, shared_task

from bench.chains.marks import mark_done

STEPS = 10


def _noop(number: int) -> Any:
    def noop(previous: dict[str, Any]) -> dict[str, Any]:
        if number == STEPS:
            mark_done(previous["mark"])
        return {"n": previous["n"] + 1, "mark": previous["mark"]}

    noop.__name__ = noop.__qualname__ = f"noop_{number:02d}"
    return shared_task(name=f"bench.chains.noop_{number:02d}", ignore_result=True)(noop)


NOOPS = [_noop(number) for number in range(1, STEPS + 1)]


def bare_chain_start(*, mark: str, queue: str) -> None:
    """Publish one chain of the ten no-ops, as a Celery user would: `chain(a.s(x), b.s(), ...).apply_async()`."""
    first, *rest = NOOPS
    signatures = [first.s({"n": 1, "mark": mark}), *(task.s() for task in rest)]
    chain(*(signature.set(queue=queue) for signature in signatures)).apply_async()

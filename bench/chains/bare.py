"""Ten bare Celery no-op tasks, the baseline: what a `chain()` of them costs per step on the same broker and worker."""

from __future__ import annotations

from functools import partial

from celery import shared_task

from bench.chains.noops import noops_chain_start, noops_register

NOOPS = noops_register(partial(shared_task, ignore_result=True), prefix="bench.chains")


def bare_chain_start(*, mark: str, queue: str) -> None:
    noops_chain_start(NOOPS, mark=mark, queue=queue)

"""End to end on the real broker: a `legion worker` process executes a chain published after commit."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from apps.chains.models import FINISHED, RunStatus, TaskRun
from apps.chains.services.chains import chain_create
from apps.chains.services.runs import chain_trigger
from tests.apps.jobs import link

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry")]


def wait_finished(root: TaskRun, expected: int, timeout: float = 20.0) -> list[TaskRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list(TaskRun.objects.filter(pk=root.pk) | TaskRun.objects.filter(root=root))
        if len(runs) == expected and all(r.status in FINISHED for r in runs):
            return runs
        time.sleep(0.1)
    raise AssertionError(f"not finished in {timeout}s: {[(r.function_id, r.status) for r in runs]}")


def test_a_fanned_out_chain_completes_on_a_real_worker(worker_process: Callable[..., Any], operator: Any) -> None:
    worker_process()
    chain = chain_create(name="fan")
    link(chain, "core.basic.split", "core.basic.log", condition="result.value % 2 == 0",
         transformation='{"message": "even " + string(result.value)}')
    link(chain, "core.basic.log", "core.basic.fail", transformation='{"until_attempt": 1}')
    root = chain_trigger(chain=chain, payload={"items": [1, 2, 3, 4]}, principal=operator, triggered_by="test")
    runs = wait_finished(root, expected=1 + 4 + 2)
    by_function: dict[str, list[str]] = {}
    for run in runs:
        by_function.setdefault(run.function.qualified_name, []).append(run.status)
    assert {name: sorted(statuses) for name, statuses in by_function.items()} == {
        "core.basic.split": [RunStatus.SUCCEEDED],
        "core.basic.log": sorted([RunStatus.SUCCEEDED] * 2 + [RunStatus.SKIPPED] * 2),
        "core.basic.fail": [RunStatus.SUCCEEDED] * 2,
    }
    retried = [r for r in runs if r.function.qualified_name == "core.basic.fail"]
    assert all(r.attempts == 2 and r.status == RunStatus.SUCCEEDED for r in retried)

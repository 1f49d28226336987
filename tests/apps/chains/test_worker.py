"""End to end on the real broker: a `legion worker` process executes a chain published after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.chains.models import FINISHED, RunStatus, TaskRun
from apps.chains.services.chains import chain_create
from apps.chains.services.runs import chain_trigger
from tests.apps.jobs import link
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry")]


def finished(root: TaskRun, expected: int) -> list[TaskRun] | None:
    """The root and its descendants once there are `expected` of them and all finished."""
    runs = list(TaskRun.objects.filter(pk=root.pk) | TaskRun.objects.filter(root=root))
    return runs if len(runs) == expected and all(r.status in FINISHED for r in runs) else None


def test_a_fanned_out_chain_completes_on_a_real_worker(worker_process: Callable[..., Any], operator: Any) -> None:
    worker_process()
    chain = chain_create(name="fan")
    link(chain, "core.basic.split", "core.basic.log", condition="result.value % 2 == 0",
         transformation='{"message": "even " + string(result.value)}')
    link(chain, "core.basic.log", "core.basic.fail", transformation='{"until_attempt": 1}')
    root = chain_trigger(chain=chain, payload={"items": [1, 2, 3, 4]}, principal=operator, triggered_by="test")
    runs = wait_until(lambda: finished(root, expected=1 + 4 + 2), timeout=20, what="the chain's 7 runs to finish")
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

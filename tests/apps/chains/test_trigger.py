"""Triggering functions and chains: authorization, idempotency keys, size limits, publish after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.chains.models import RunStatus, TaskRun
from apps.chains.services.chains import chain_create
from apps.chains.services.runs import chain_trigger, run_cancel, run_trigger
from apps.core.errors import ApplicationError
from apps.runners.selectors import function_get
from tests.apps.jobs import drive, function, link

pytestmark = pytest.mark.usefixtures("registry")


def test_a_trigger_creates_a_queued_run_and_publishes_it_after_commit(
    operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = run_trigger(function=function("core.basic.log"), payload={"message": "hi"}, principal=operator,
                          triggered_by="test")
    assert (run.status, run.principal, run.max_attempts, run.root_id) == (RunStatus.QUEUED, "ops", 1, None)
    assert len(callbacks) == 1


def test_the_same_idempotency_key_returns_the_same_run(operator: Any) -> None:
    first = run_trigger(function=function("core.basic.log"), payload={"message": "a"}, principal=operator,
                        triggered_by="test", idempotency_key="deploy-42")
    again = run_trigger(function=function("core.basic.log"), payload={"message": "a"}, principal=operator,
                        triggered_by="test", idempotency_key="deploy-42")
    assert first.pk == again.pk and TaskRun.objects.count() == 1


def test_a_principal_without_execute_is_refused(observer: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        run_trigger(function=function("core.basic.log"), payload={"message": "a"}, principal=observer,
                    triggered_by="test")
    assert (caught.value.code, caught.value.status) == ("permission_denied", 403)
    assert not TaskRun.objects.exists()


def test_no_principal_is_refused() -> None:
    with pytest.raises(ApplicationError) as caught:
        run_trigger(function=function("core.basic.log"), payload={"message": "a"}, principal=None, triggered_by="test")
    assert caught.value.code == "permission_denied"


def test_unknown_functions_and_oversized_payloads_are_refused(
    operator: Any, config: Callable[[str, Any], None]
) -> None:
    with pytest.raises(ApplicationError) as caught:
        run_trigger(function=function_get(qualified_name="core.basic.nope"), payload={}, principal=operator,
                    triggered_by="test")
    assert (caught.value.code, caught.value.status) == ("not_found", 404)
    gone = function("core.basic.echo")
    gone.available = False
    gone.save(update_fields=["available"])
    with pytest.raises(ApplicationError) as caught:
        run_trigger(function=gone, payload={}, principal=operator, triggered_by="test")
    assert (caught.value.code, caught.value.status, caught.value.field) == ("not_found", 404, "function")
    assert not TaskRun.objects.exists()
    config("chains.max_payload_bytes", 50)
    with pytest.raises(ApplicationError) as caught:
        run_trigger(function=function("core.basic.log"), payload={"message": "x" * 60}, principal=operator,
                    triggered_by="test")
    assert (caught.value.code, caught.value.status) == ("payload_too_large", 413)


def test_a_chain_starts_at_its_entry_function_and_runs_to_the_end(operator: Any) -> None:
    chain = chain_create(name="pipeline")
    link(chain, "core.basic.log", "core.basic.echo", transformation='{"data": {"said": result.message}}')
    link(chain, "core.basic.echo", "core.basic.wait", transformation='{"seconds": 0}')
    root = chain_trigger(chain=chain, payload={"message": "go"}, principal=operator, triggered_by="test")
    assert root.function.qualified_name == "core.basic.log"
    drive()
    runs = TaskRun.objects.filter(root=root).order_by("created_at")
    assert [(r.function.qualified_name, r.status) for r in runs] == [
        ("core.basic.echo", RunStatus.SUCCEEDED), ("core.basic.wait", RunStatus.SUCCEEDED)]
    assert runs[0].result == {"said": "go"}


def test_cancelling_a_root_cancels_its_queued_descendants(operator: Any) -> None:
    chain = chain_create(name="slow")
    link(chain, "core.basic.log", "core.basic.wait", transformation='{"seconds": 0}', delay_seconds=3600)
    root = chain_trigger(chain=chain, payload={"message": "go"}, principal=operator, triggered_by="test")
    drive(ignore_delays=False)
    assert run_cancel(run=root) == 1
    assert TaskRun.objects.get(parent=root).status == RunStatus.CANCELLED
    with pytest.raises(ApplicationError) as caught:
        run_cancel(run=root)
    assert caught.value.code == "nothing_to_cancel"


def test_starting_a_chain_reads_the_principals_policies_once_however_long_the_chain(
    operator: Any, django_assert_max_num_queries: Any
) -> None:
    chain = chain_create(name="long")
    steps = ["core.basic.log", "core.basic.echo", "core.basic.wait", "core.basic.fail", "core.basic.split"]
    for trigger, action in zip(steps, steps[1:], strict=False):
        link(chain, trigger, action)
    principal = type(operator).objects.get(pk=operator.pk)  # as a request would load it: nothing prefetched
    # The chain's functions (1), the principal's policies and teams (4), the run (BEGIN, INSERT, COMMIT).
    with django_assert_max_num_queries(9):
        chain_trigger(chain=chain, payload={"message": "go"}, principal=principal, triggered_by="test")


def test_a_chain_whose_later_action_the_principal_may_not_run_is_refused(
    operator: Any, config: Callable[[str, Any], None]
) -> None:
    from apps.rbac.models import Policy

    narrow = Policy.objects.create(name="log-only", rules=[{"path": "runners/core/basic/log", "actions": ["execute"]}])
    operator.policies.set([narrow])
    chain = chain_create(name="guarded")
    link(chain, "core.basic.log", "core.basic.echo")
    with pytest.raises(ApplicationError) as caught:
        chain_trigger(chain=chain, payload={"message": "go"}, principal=operator, triggered_by="test")
    assert caught.value.code == "permission_denied" and "core.basic.echo" in caught.value.message
    assert not TaskRun.objects.exists()

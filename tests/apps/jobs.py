"""Helpers for the tests of the job engine and its triggers: functions by name, runs created as the engine would,
a synchronous driver, principals with a built-in policy, API clients and `legion` commands in process.

`drive` executes due queued runs through the same `run_execute` a worker calls, so engine tests need
no broker; the tests that need one (publisher, worker) use RabbitMQ with a queue of their own.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management import call_command
from django.utils import timezone

from apps.chains.models import Chain, RunStatus, TaskRun
from apps.chains.services.callers import HOST
from apps.chains.services.chains import relationship_create
from apps.chains.services.runs import run_execute
from apps.runners.models import Function


def function(name: str) -> Function:
    return Function.objects.get(qualified_name=name)


def run_create(name: str, payload: dict[str, Any], *, chain: Chain | None = None) -> TaskRun:
    """A queued run as `run_trigger` makes it, minus authorization and publishing, for a principal that may
    execute every function (its children are authorized for it)."""
    fn = function(name)
    return TaskRun.objects.create(
        function=fn, chain=chain, chain_version=chain.version if chain else None,
        idempotency_key=f"test:{uuid.uuid4()}", payload=payload, max_attempts=fn.max_attempts,
        triggered_by="test", principal=_runner().name,
    )


def _runner() -> Any:
    from apps.rbac.models import Principal

    return Principal.objects.filter(name="runner").first() or principal_with("runner", "operator")


def link(chain: Chain, trigger: str, action: str, **options: Any) -> Any:
    return relationship_create(by=HOST, chain=chain, trigger=function(trigger), action=function(action), **options)


def drive(*, limit: int = 200, ignore_delays: bool = True) -> list[str]:
    """Execute due queued runs, oldest first, until none is left; returns the outcomes in order."""
    outcomes: list[str] = []
    for _ in range(limit):
        due = TaskRun.objects.filter(status=RunStatus.QUEUED).order_by("created_at")
        if not ignore_delays:
            due = due.exclude(not_before__gt=timezone.now())
        run = due.first()
        if run is None:
            return outcomes
        if ignore_delays and run.not_before:
            TaskRun.objects.filter(pk=run.pk).update(not_before=None)
        outcomes.append(run_execute(run_id=str(run.pk)))
    raise AssertionError(f"runs still queued after {limit} executions")


def principal_with(name: str, policy: str) -> Any:
    from apps.rbac.models import Policy
    from apps.rbac.services import policy_builtin_ensure, principal_create

    policy_builtin_ensure()
    return principal_create(name=name, policies=[Policy.objects.get(name=policy)])


def api_for(principal: Any) -> Any:
    """An API client authenticated with a fresh API key of `principal`."""
    from rest_framework.test import APIClient

    from apps.rbac.services import api_key_create

    _, raw = api_key_create(principal=principal)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def legion(*args: str) -> int:
    """Run `legion <args>` in this process; its exit status."""
    try:
        call_command("legion", *args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0

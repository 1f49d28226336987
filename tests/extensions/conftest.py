"""Extension fixtures: a synced registry, settings overrides, principals with policies, and running a function
as a worker would (`run_execute` on a queued run that belongs to a principal)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from apps.chains.models import TaskRun
from apps.chains.services.runs import run_execute
from apps.runners.models import Function
from apps.runners.sdk import Authorizer
from apps.runners.selectors import run_authorizer
from tests.apps.conftest import config, registry
from tests.apps.jobs import principal_with

__all__ = ["authorizer_for", "config", "principal_with", "registry", "run_as"]


def run_as(name: str, payload: dict[str, Any], principal: Any = None) -> TaskRun:
    """Create a queued run of `name` for `principal` and execute it once; the run as stored afterwards."""
    function = Function.objects.get(qualified_name=name)
    run = TaskRun.objects.create(
        function=function, idempotency_key=f"test:{uuid.uuid4()}", payload=payload,
        max_attempts=function.max_attempts, triggered_by="test", principal=principal.name if principal else "",
    )
    run_execute(run_id=str(run.pk))
    run.refresh_from_db()
    return run


@pytest.fixture
def runner(registry: None) -> Callable[..., TaskRun]:
    return run_as


def policy_principal(name: str, *rules: dict[str, Any]) -> Any:
    """A principal whose one policy holds exactly `rules`."""
    from apps.rbac.services import policy_create, principal_create

    policy = policy_create(name=f"{name}-policy", rules=list(rules))
    return principal_create(name=name, policies=[policy])


def authorizer_for(principal: Any) -> Authorizer:
    """`ctx.authorize` as the engine binds it for a run of `principal`."""
    return run_authorizer(principal=principal.name)

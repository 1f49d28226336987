"""Chain fixtures: a synced registry, runs created as the engine would, and a synchronous driver.

`drive` executes due queued runs through the same `run_execute` a worker calls, so engine tests need
no broker; the tests that need one (publisher, worker) use RabbitMQ with a queue of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from apps.chains.models import Chain, RunStatus, TaskRun
from apps.chains.services.callers import HOST
from apps.chains.services.chains import relationship_save
from apps.chains.services.runs import run_execute
from apps.runners.models import Function
from apps.runners.services import registry_sync
from tests.apps.chains.processes import LegionProcess


@pytest.fixture
def registry(db: None) -> None:
    registry_sync()


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
    return relationship_save(by=HOST, chain=chain, trigger=function(trigger), action=function(action), **options)


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


@pytest.fixture
def operator(db: None) -> Any:
    """A principal holding the built-in operator policy (may execute every runner function)."""
    return principal_with("ops", "operator")


@pytest.fixture
def observer(db: None) -> Any:
    """A principal that may read but not execute."""
    return principal_with("watcher", "observer")


@pytest.fixture
def worker_process(transactional_db: None) -> Iterator[Callable[..., LegionProcess]]:
    """Start real worker processes (they share this test's queue); all are stopped afterwards."""
    from kombu import Connection

    started: list[LegionProcess] = []

    def start(concurrency: int = 2) -> LegionProcess:
        worker = LegionProcess("worker", "--queues", settings.CONFIG["chains.queue"],
                               "--concurrency", str(concurrency))
        started.append(worker)
        worker.wait_for("ready.")
        return worker

    yield start
    for worker in started:
        worker.stop()
    with Connection(settings.CELERY_BROKER_URL) as connection:
        connection.default_channel.queue_delete(settings.CONFIG["chains.queue"])


def api_for(principal: Any) -> Any:
    """An API client authenticated with a fresh API key of `principal`."""
    from rest_framework.test import APIClient

    from apps.rbac.services import api_key_create

    _, raw = api_key_create(principal=principal)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client

"""`legion actors`: threads follow the database (added, changed, disabled, crashed), and the real process runs them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apps.actors.models import Actor, ActorState
from apps.actors.runtime import ActorRuntime
from apps.actors.services import actor_set_enabled, actor_update
from apps.chains.models import TaskRun
from apps.chains.services.callers import HOST
from tests.apps.processes import LegionProcess
from tests.support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def runtime() -> Iterator[ActorRuntime]:
    made = ActorRuntime(reload_seconds=60)
    yield made
    made.stop_all()


def test_the_runtime_follows_the_database(
    make_actor: Callable[..., Actor], runtime: ActorRuntime, queue: str
) -> None:
    every = make_actor("every", options={"interval_seconds": 30})
    make_actor("nothing")  # invoked only: no thread
    runtime.reconcile()
    assert list(runtime.running) == [every.pk]
    first = runtime.running[every.pk].thread
    assert ActorState.objects.get(actor=every).node == runtime.node

    actor_update(by=HOST, actor=every, options={"interval_seconds": 10})
    runtime.reconcile()
    assert runtime.running[every.pk].thread is not first  # changed: restarted with the new options
    assert runtime.running[every.pk].snapshot.options.interval_seconds == 10
    assert first is not None and not first.is_alive()

    actor_set_enabled(actor=every, enabled=False)
    runtime.reconcile()
    assert runtime.running == {}


def test_a_crashed_actor_is_recorded_and_restarted(
    make_actor: Callable[..., Actor], runtime: ActorRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.actors.every import Every

    started = threading.Semaphore(0)

    def crash(self: Any, actor: Any, stop: threading.Event) -> None:
        started.release()
        raise RuntimeError("boom")

    monkeypatch.setattr(Every, "run", crash)
    actor = make_actor("every")
    runtime.reconcile()
    assert started.acquire(timeout=5)
    wait_until(lambda: ActorState.objects.get(actor=actor).last_error is not None, timeout=5,
               what="the crash to be recorded")
    assert ActorState.objects.get(actor=actor).last_error == {"code": "RuntimeError", "message": "boom"}
    assert runtime.running[actor.pk].crashed
    runtime.reconcile()
    assert started.acquire(timeout=5)  # started again


def test_the_legion_actors_process_runs_enabled_actors_until_stopped(
    make_actor: Callable[..., Actor], queue: str
) -> None:
    actor = make_actor("every", options={"interval_seconds": 0.5, "run_now": True})
    process = LegionProcess("actors", env={"LEGION_ACTORS_RELOAD_INTERVAL_SECONDS": "1"})
    try:
        process.wait_for("actor every-actor (every) started")
        wait_until(lambda: ActorState.objects.get(actor=actor).fired_count == 1, timeout=20,
                   what="the actor's first run")
        assert TaskRun.objects.get().triggered_by == "actor"
    finally:
        code = process.stop()
    assert code == 0 and "legion actors: stopped" in process.output()

"""Timer kinds on threads, as `legion actors` runs them: every, singleton, once, poll and loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from apps.actors.models import Actor, ActorState
from apps.chains.models import RunStatus, TaskRun
from apps.chains.services.chains import chain_create
from tests.apps.jobs import drive, link
from tests.support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def state(actor: Actor) -> ActorState:
    return ActorState.objects.get(actor=actor)


def test_every_fires_at_its_interval_and_skips_while_the_last_run_goes_on(
    make_actor: Callable[..., Actor], running: Callable[..., Any], queue: str
) -> None:
    actor = make_actor("every", options={"interval_seconds": 0.2, "run_now": True})
    running(actor)
    wait_until(lambda: state(actor).skipped_count >= 3, timeout=10, what="ticks skipped while the run is queued")
    assert state(actor).fired_count == 1  # no worker: the first run is still queued, so every tick skips

    TaskRun.objects.update(status=RunStatus.SUCCEEDED)
    wait_until(lambda: state(actor).fired_count >= 2, timeout=10, what="the next tick to fire")
    run = TaskRun.objects.filter(status=RunStatus.QUEUED).get()
    assert (run.triggered_by, run.principal, run.payload) == ("actor", "ops", {"message": "hi"})
    assert run.idempotency_key.startswith("actor:every-actor:")


def test_a_singleton_fires_on_one_node_and_another_takes_over_when_it_stops(
    make_actor: Callable[..., Actor], running: Callable[..., Any], queue: str
) -> None:
    actor = make_actor("singleton", name=f"singleton-{time.monotonic_ns()}",
                       options={"interval_seconds": 0.2, "run_now": True, "lease_ttl_seconds": 1})

    def fired_at_least(count: int) -> bool:
        TaskRun.objects.update(status=RunStatus.SUCCEEDED)  # as if a worker ran each: the next tick may fire
        return state(actor).fired_count >= count

    first = running(actor)
    wait_until(lambda: fired_at_least(1), timeout=10, what="the leader to fire")
    leader = state(actor).leader
    second = running(actor)  # another node
    wait_until(lambda: fired_at_least(4), timeout=10, what="more ticks of the leader")
    assert state(actor).leader == leader

    first.halt()  # the leader lets go; the other node takes the lease at its next tick
    wait_until(lambda: state(actor).leader not in ("", leader), timeout=10, what="the other node to lead")
    fired = state(actor).fired_count
    wait_until(lambda: fired_at_least(fired + 2), timeout=10, what="the new leader to fire")
    second.halt()


def test_once_fires_a_single_time_after_its_delay(
    make_actor: Callable[..., Actor], running: Callable[..., Any], queue: str
) -> None:
    actor = make_actor("once", options={"delay_seconds": 0.3})
    started = time.monotonic()
    item = running(actor)
    item.thread.join(10)
    assert time.monotonic() - started >= 0.3
    assert not item.thread.is_alive() and TaskRun.objects.count() == 1
    running(actor).thread.join(10)  # restarted in the same process: the same "once"
    assert TaskRun.objects.count() == 1


def test_poll_fires_only_when_the_result_changed(
    make_actor: Callable[..., Actor], running: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, queue: str
) -> None:
    import apps.actors.poll as poll

    polls: list[None] = []
    real = poll.actor_call

    def counted(**kwargs: Any) -> Any:
        polls.append(None)
        return real(**kwargs)

    monkeypatch.setattr(poll, "actor_call", counted)
    chain = chain_create(name="on-change")
    link(chain, "core.basic.echo", "core.basic.log", transformation='{"message": "n is " + string(result.n)}')
    actor = make_actor("poll", function=None, chain=chain, payload={"data": {"n": 1}},
                       options={"interval_seconds": 0.1})
    item = running(actor)
    wait_until(lambda: state(actor).last_result == {"n": 1}, timeout=10, what="the first poll")
    seen = len(polls)  # a poll starts once the one before has settled: four more started, three settled
    wait_until(lambda: len(polls) >= seen + 4, timeout=10, what="several more polls of the same result")
    item.halt()
    root = TaskRun.objects.get(parent__isnull=True)
    assert (root.status, root.result, root.triggered_by, root.chain) == (RunStatus.SUCCEEDED, {"n": 1}, "actor", chain)

    Actor.objects.filter(pk=actor.pk).update(payload={"data": {"n": 2}})
    actor.refresh_from_db()
    item = running(actor)
    wait_until(lambda: state(actor).last_result == {"n": 2}, timeout=10, what="the changed result")
    item.halt()
    assert TaskRun.objects.filter(parent__isnull=True).count() == 2
    assert drive() == ["succeeded", "succeeded"]
    assert sorted(run.result["message"] for run in TaskRun.objects.filter(parent__isnull=False)) == [
        "n is 1", "n is 2"]


def test_loop_goes_on_while_busy_and_backs_off_when_idle(
    make_actor: Callable[..., Actor], running: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, queue: str
) -> None:
    import apps.actors.loop as loop

    calls: list[float] = []
    real = loop.actor_call

    def counted(**kwargs: Any) -> Any:
        calls.append(time.monotonic())
        return real(**kwargs)

    monkeypatch.setattr(loop, "actor_call", counted)
    idle = make_actor("loop", name="idle-loop", function="core.basic.split", payload={"items": []},
                      options={"idle_backoff_min_ms": 50, "idle_backoff_max_ms": 400})
    item = running(idle)
    time.sleep(1.2)  # a window of idle polling, whose backing off is counted below
    item.halt()
    # 50 + 100 + 200 + 400 + 400 ms of backing off: about six calls, no runs recorded.
    assert 3 <= len(calls) <= 8, calls
    assert not TaskRun.objects.exists()

    busy = make_actor("loop", name="busy-loop", function="core.basic.split", payload={"items": [1]},
                      options={"idle_backoff_min_ms": 1000})
    item = running(busy)
    wait_until(lambda: TaskRun.objects.count() >= 3, timeout=10, what="back-to-back busy calls")
    item.halt()
    assert all(run.result == [{"value": 1, "index": 0}] for run in TaskRun.objects.all())

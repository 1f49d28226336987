"""Actors declared by extensions become rows; an admin's edits survive later syncs."""

from __future__ import annotations

from typing import Any

import pytest

from apps.actors.declarations import declarations_load
from apps.actors.models import Actor, ActorState
from apps.actors.services import actor_delete, actor_update, actors_sync
from apps.chains.services.callers import HOST
from apps.core.errors import ApplicationError
from apps.runners.models import Extension

pytestmark = pytest.mark.django_db

SAMPLE = [("tests.apps.actors.sample_extension", "test")]


@pytest.fixture
def sample(registry: None) -> Extension:
    return Extension.objects.create(name="sample", version="0.1.0", source="test", synced_at="2026-01-01T00:00Z")


def test_declared_actors_are_created_named_after_their_extension(sample: Extension) -> None:
    declared = declarations_load(SAMPLE)
    assert [(ext, item.name) for ext, item in declared.actors] == [("sample", "heartbeat"), ("sample", "broken")]
    assert actors_sync(declared=declared) == {"actors": 1, "unavailable": 0}  # "broken" names no function
    actor = Actor.objects.get(name="sample.heartbeat")
    assert (actor.kind, actor.function.qualified_name, actor.options, actor.extension) == (
        "every", "core.basic.log", {"interval_seconds": 60}, sample)
    assert ActorState.objects.filter(actor=actor).exists()


def test_an_edited_declared_actor_keeps_its_edits(sample: Extension, operator: Any) -> None:
    actors_sync(declared=declarations_load(SAMPLE))
    actor = Actor.objects.get(name="sample.heartbeat")
    actor_update(by=HOST, actor=actor, payload={"message": "mine"}, options={"interval_seconds": 5},
                 run_as=operator)
    actors_sync(declared=declarations_load(SAMPLE))
    actor.refresh_from_db()
    assert (actor.customized, actor.payload, actor.options) == (True, {"message": "mine"}, {"interval_seconds": 5})


def test_a_declaration_that_is_gone_leaves_its_actor_unavailable(sample: Extension) -> None:
    actors_sync(declared=declarations_load(SAMPLE))
    assert actors_sync(declared=declarations_load([])) == {"actors": 0, "unavailable": 1}
    actor = Actor.objects.get(name="sample.heartbeat")
    assert not actor.available
    actor_delete(actor=actor)  # no longer declared: it may go


def test_a_declared_actor_cannot_be_deleted_while_declared(sample: Extension) -> None:
    actors_sync(declared=declarations_load(SAMPLE))
    with pytest.raises(ApplicationError) as caught:
        actor_delete(actor=Actor.objects.get(name="sample.heartbeat"))
    assert (caught.value.code, caught.value.status) == ("declared_actor", 409)


def test_a_sync_that_changes_nothing_does_not_restart_actors(sample: Extension) -> None:
    actors_sync(declared=declarations_load(SAMPLE))
    before = Actor.objects.get(name="sample.heartbeat").updated_at
    actors_sync(declared=declarations_load(SAMPLE))
    assert Actor.objects.get(name="sample.heartbeat").updated_at == before

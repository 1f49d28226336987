"""Actor fixtures: actors saved as the admin or API would, and a kind run in a thread for a while."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from apps.actors.base import ActorSnapshot
from apps.actors.kinds import actor_type
from apps.actors.models import Actor
from apps.actors.services import actor_create, actor_snapshot
from apps.chains.services.callers import HOST
from tests.apps.jobs import function


@pytest.fixture
def make_actor(registry: None, operator: Any) -> Callable[..., Actor]:
    """An actor of core.basic.log run as the operator, unless told otherwise."""

    def make(kind: str, name: str | None = None, **values: Any) -> Actor:
        fields: dict[str, Any] = {"function": function("core.basic.log"), "payload": {"message": "hi"},
                                  "run_as": operator, **values}
        if isinstance(fields["function"], str):
            fields["function"] = function(fields["function"])
        return actor_create(by=HOST, name=name or f"{kind}-actor", kind=kind, **fields)

    return make


class Running:
    """An actor kind's `run` on a thread of its own, as `legion actors` runs it."""

    def __init__(self, actor: Actor) -> None:
        self.snapshot: ActorSnapshot = actor_snapshot(actor=actor)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from django.db import connection

        try:
            actor_type(self.snapshot.kind).run(self.snapshot, self.stop)
        finally:
            connection.close()

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def running() -> Any:
    """Start kinds in threads; every one is stopped at the end of the test."""
    started: list[Running] = []

    def start(actor: Actor) -> Running:
        started.append(Running(actor))
        return started[-1]

    yield start
    for item in started:
        item.halt()

"""Nothing: no schedule of its own; the actor runs only when invoked (API, CLI, admin)."""

from __future__ import annotations

from apps.actors.base import ActorType


class Nothing(ActorType):
    kind = "nothing"
    background = False

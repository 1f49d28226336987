"""The actor kinds by name: one module each, all behind `ActorType`."""

from __future__ import annotations

from apps.actors.absorber import Absorber
from apps.actors.base import ActorType
from apps.actors.every import Every
from apps.actors.loop import Loop
from apps.actors.nothing import Nothing
from apps.actors.once import Once
from apps.actors.poll import Poll
from apps.actors.singleton import Singleton
from apps.actors.subscription import Subscription
from apps.core.errors import ApplicationError

KINDS: dict[str, ActorType] = {
    kind.kind: kind()
    for kind in (Subscription, Every, Poll, Once, Loop, Nothing, Singleton, Absorber)
}


def actor_type(kind: str) -> ActorType:
    try:
        return KINDS[kind]
    except KeyError:
        raise ApplicationError("invalid_kind", f"kind must be one of {', '.join(KINDS)}", field="kind") from None

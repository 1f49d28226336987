"""The actor kinds by name: one module each, all behind `ActorType`."""

from __future__ import annotations

from apps.chains.actors.absorber import Absorber
from apps.chains.actors.base import ActorType
from apps.chains.actors.every import Every
from apps.chains.actors.loop import Loop
from apps.chains.actors.nothing import Nothing
from apps.chains.actors.once import Once
from apps.chains.actors.poll import Poll
from apps.chains.actors.singleton import Singleton
from apps.chains.actors.subscription import Subscription
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

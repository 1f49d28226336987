"""Actor reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.actors.models import Actor
from apps.core.errors import ApplicationError


def actor_list() -> QuerySet[Actor]:
    return Actor.objects.select_related("function", "chain", "run_as", "extension", "state")


def actor_get(*, actor_id: int) -> Actor:
    actor = actor_list().filter(pk=actor_id).first()
    if actor is None:
        raise ApplicationError("not_found", f"no actor {actor_id}", status=404)
    return actor

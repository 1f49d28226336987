"""Actor writes: saving (options checked by the kind), syncing extensions' declarations, direct invocation."""

from __future__ import annotations

import logging
from typing import Any, TypedDict, Unpack

import pydantic
from django.conf import settings
from django.db import transaction

from apps.actors.absorber import AbsorberOptions, absorber_route
from apps.actors.base import ActorSnapshot
from apps.actors.declarations import Declared, declarations_load
from apps.actors.firing import actor_error, actor_fire, actor_fired
from apps.actors.kinds import actor_type
from apps.actors.models import Actor, ActorKind, ActorState
from apps.chains.models import Chain, TaskRun
from apps.chains.services.callers import Caller, check_run_as
from apps.chains.targets import check_target, target_by_name, target_trigger
from apps.core.errors import ApplicationError
from apps.rbac.models import Principal
from apps.runners.models import Extension, Function

logger = logging.getLogger(__name__)


def check_actor(
    *, kind: str, function: Function | None, chain: Chain | None, payload: Any, options: Any
) -> pydantic.BaseModel:
    """Raise on a bad actor (the field is named, `options.<field>` for the kind's options); returns the options."""
    kind_type = actor_type(kind)
    if not isinstance(options, dict):
        raise ApplicationError("invalid_options", "options must be a JSON object", field="options")
    try:
        parsed = kind_type.Options.model_validate(options)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(["options", *(str(part) for part in first["loc"])])
        raise ApplicationError("invalid_options", first["msg"], field=where) from exc
    if kind_type.needs_target:
        check_target(function=function, chain=chain, payload=payload)
    else:
        if function is not None or chain is not None:
            raise ApplicationError("invalid_target", f"a {kind} actor's targets are in its options", field="function")
        if not isinstance(payload, dict):
            raise ApplicationError("invalid", "payload must be a JSON object", field="payload")
    if isinstance(parsed, AbsorberOptions):
        for index, handler in enumerate(parsed.handlers):
            try:
                target_by_name(handler.function, handler.chain)
            except ApplicationError as exc:
                raise ApplicationError(exc.code, exc.message, field=f"options.handlers.{index}") from exc
    return parsed


def check_actor_run_as(*, by: Caller, run_as: Principal | None) -> None:
    """`check_run_as` for the principal the actor's runs will have: without `run_as`, `actors.principal`."""
    default = settings.CONFIG["actors.principal"]
    check_run_as(by=by, run_as=run_as or (Principal.objects.filter(name=default).first() if default else None))


class ActorChanges(TypedDict, total=False):
    """What an update may change in an actor."""

    name: str
    kind: str
    function: Function | None
    chain: Chain | None
    payload: dict[str, Any]
    options: dict[str, Any]
    run_as: Principal | None
    enabled: bool
    description: str


@transaction.atomic
def actor_create(
    *, by: Caller, name: str, kind: str, function: Function | None = None, chain: Chain | None = None,
    payload: dict[str, Any] | None = None, options: dict[str, Any] | None = None, run_as: Principal | None = None,
    enabled: bool = True, description: str = "",
) -> Actor:
    """Create an actor; `by` must be allowed to act as its principal (`check_actor_run_as`)."""
    actor = Actor(name=name, kind=kind, function=function, chain=chain, payload={} if payload is None else payload,
                  options={} if options is None else options, run_as=run_as, enabled=enabled, description=description)
    return _actor_checked_save(by=by, actor=actor)


@transaction.atomic
def actor_update(*, by: Caller, actor: Actor, **changes: Unpack[ActorChanges]) -> Actor:
    """Apply `changes` and check the actor as it then is. An edited declared actor is marked customized: syncing
    leaves it be.

    `by` must be allowed to act as the actor's principal, changed or not (`check_actor_run_as`).
    """
    for attribute, value in changes.items():
        setattr(actor, attribute, value)
    actor.customized = actor.extension_id is not None
    return _actor_checked_save(by=by, actor=actor)


def _actor_checked_save(*, by: Caller, actor: Actor) -> Actor:
    check_actor(kind=actor.kind, function=actor.function, chain=actor.chain, payload=actor.payload,
                options=actor.options)
    check_actor_run_as(by=by, run_as=actor.run_as)
    if not actor.name or len(actor.name) > 150:
        raise ApplicationError("invalid", "an actor needs a name of at most 150 characters", field="name")
    if Actor.objects.filter(name=actor.name).exclude(pk=actor.pk).exists():
        raise ApplicationError("duplicate", f"an actor named '{actor.name}' exists", field="name", status=409)
    actor.save()
    ActorState.objects.get_or_create(actor=actor)
    return actor


def actor_set_enabled(*, actor: Actor, enabled: bool) -> Actor:
    """The runtime notices within `actors.reload_interval_seconds` (the row's version changes)."""
    actor.enabled = enabled
    actor.save(update_fields=["enabled", "updated_at"])
    return actor


def actor_delete(*, actor: Actor) -> None:
    if actor.extension_id is not None and actor.available:
        raise ApplicationError("declared_actor", f"'{actor.name}' is declared by its extension; disable it instead",
                               status=409)
    actor.delete()


def actor_snapshot(*, actor: Actor) -> ActorSnapshot:
    options = check_actor(kind=actor.kind, function=actor.function, chain=actor.chain, payload=actor.payload,
                          options=actor.options) if actor.kind in ActorKind.values else None
    return ActorSnapshot(
        id=actor.pk, name=actor.name, kind=actor.kind, function_id=actor.function_id, chain_id=actor.chain_id,
        payload=dict(actor.payload), options=options, run_as=actor.run_as.name if actor.run_as else None,
        version=actor.updated_at.isoformat(),
    )


def actors_runnable() -> list[ActorSnapshot]:
    """Enabled, available actors of the kinds that run on their own; a misconfigured one is reported and left out."""
    snapshots = []
    rows = Actor.objects.filter(enabled=True, available=True).select_related("function", "chain", "run_as")
    for actor in rows:
        if actor.kind not in ActorKind.values or not actor_type(actor.kind).background:
            continue
        try:
            snapshots.append(actor_snapshot(actor=actor))
        except ApplicationError as exc:
            actor_error(actor_id=actor.pk, exc=exc)
    return snapshots


def actor_invoke(*, actor: Actor, payload: dict[str, Any], principal: Any,
                 idempotency_key: str | None = None) -> TaskRun:
    """Fire an actor now, as the caller (never as the actor's own principal: no one gains rights by invoking)."""
    if actor.kind == ActorKind.ABSORBER:
        raise ApplicationError("use_absorb", "an absorber is given an input to route: use absorb", status=409)
    if not actor.enabled:
        raise ApplicationError("actor_disabled", f"actor '{actor.name}' is disabled", status=409)
    return actor_fire(actor=actor_snapshot(actor=actor), payload=payload, principal=principal,
                      idempotency_key=idempotency_key)


def actor_absorb(*, actor: Actor, value: str, principal: Any, idempotency_key: str | None = None) -> TaskRun:
    """Route `value` to the first handler whose pattern matches and start it, as the caller."""
    if actor.kind != ActorKind.ABSORBER:
        raise ApplicationError("not_an_absorber", f"actor '{actor.name}' is a {actor.kind} actor", status=409)
    if not actor.enabled:
        raise ApplicationError("actor_disabled", f"actor '{actor.name}' is disabled", status=409)
    snapshot = actor_snapshot(actor=actor)
    routed = absorber_route(snapshot.options, value)
    if routed is None:
        raise ApplicationError("no_handler", f"no handler of '{actor.name}' matches the input", field="input",
                               status=422)
    handler, fields = routed
    function, chain = target_by_name(handler.function, handler.chain)
    run = target_trigger(function=function, chain=chain, payload={**actor.payload, **fields}, principal=principal,
                         triggered_by="actor", idempotency_key=idempotency_key)
    actor_fired(actor_id=actor.pk, run=run)
    return run


@transaction.atomic
def actors_sync(*, declared: Declared | None = None) -> dict[str, int]:
    """Create or refresh the rows of declared actors; rows whose declaration is gone become unavailable.

    A row someone edited (`customized`) keeps its settings; `enabled` and `run_as` are always the
    admin's to set (a declaration only gives the initial `enabled`). A declaration that does not check
    (unknown function, bad options) is logged and skipped.
    """
    declared = declared or declarations_load()
    seen: set[int] = set()
    for extension_name, declaration in declared.actors:
        name = f"{extension_name}.{declaration.name}"
        try:
            function, chain = target_by_name(declaration.function, declaration.chain)
            check_actor(kind=declaration.kind, function=function, chain=chain, payload=declaration.payload,
                        options=declaration.options)
        except ApplicationError as exc:
            logger.error("declared actor %s is invalid: %s (%s)", name, exc.message, exc.field or exc.code)
            continue
        actor = Actor.objects.filter(name=name).first() or Actor(name=name, enabled=declaration.enabled)
        values: dict[str, Any] = {"extension": Extension.objects.filter(name=extension_name).first(),
                                  "available": True}
        if actor.pk is None or not actor.customized:
            values.update(kind=declaration.kind, function=function, chain=chain, payload=dict(declaration.payload),
                          options=dict(declaration.options), description=declaration.description)
        # Saving bumps the row's version, which restarts a running actor: only save what changed.
        if actor.pk is None or any(getattr(actor, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(actor, key, value)
            actor.save()
        ActorState.objects.get_or_create(actor=actor)
        seen.add(actor.pk)
    gone = Actor.objects.filter(extension__isnull=False, available=True).exclude(pk__in=seen)
    return {"actors": len(seen), "unavailable": gone.update(available=False)}

"""Chain and relationship writes: expressions are compiled and type-checked before anything is saved."""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

from django.db import transaction
from django.db.models import F

from apps.chains.expressions import Environment, ExpressionError, expression_check
from apps.chains.expressions_llm import check_llm_instruction
from apps.chains.models import Chain, Relationship, TransformationKind
from apps.chains.services.callers import Caller, check_caller, check_may_execute
from apps.core.errors import ApplicationError
from apps.runners.models import Function


def check_relationship(
    *, trigger: Function, condition: str, transformation: str, transformation_kind: str
) -> None:
    """Raise `invalid_condition` / `invalid_transformation` naming the position of the first error.

    The expressions see the trigger's output: one element of it when the output is a list, since a
    list result fans out one child per element.
    """
    output = trigger.output_schema or {}
    result_schema = output.get("items", {}) if output.get("type") == "array" else output
    if output.get("type") == "array" and "$defs" in output:
        result_schema = {**result_schema, "$defs": output["$defs"]}
    environment = Environment(result=result_schema, payload=trigger.input_schema or {})
    if transformation_kind == TransformationKind.LLM:
        # An instruction in prose, checked for presence and length; its answer is checked against the action's
        # input schema when it runs (apps/chains/expressions_llm.py).
        try:
            check_llm_instruction(transformation)
        except ExpressionError as exc:
            raise ApplicationError("invalid_transformation", str(exc), field="transformation") from exc
    checked = [(condition, "condition", "bool")]
    if transformation_kind != TransformationKind.LLM:
        checked.append((transformation, "transformation", "object"))
    for source, field, expect in checked:
        if not source.strip():
            continue
        try:
            expression_check(source, environment, expect=expect)
        except ExpressionError as exc:
            raise ApplicationError(f"invalid_{field}", str(exc), field=field) from exc


class RelationshipChanges(TypedDict, total=False):
    """What an update may change in a relationship (never its chain)."""

    trigger: Function
    action: Function
    name: str
    condition: str
    transformation: str
    transformation_kind: str
    delay_seconds: int
    active: bool
    allow_new_chains: bool


@transaction.atomic
def relationship_create(
    *,
    by: Caller,
    chain: Chain,
    trigger: Function,
    action: Function,
    name: str = "",
    condition: str = "",
    transformation: str = "",
    transformation_kind: str = TransformationKind.CEL,
    delay_seconds: int = 0,
    active: bool = True,
    allow_new_chains: bool = False,
) -> Relationship:
    """Add a relationship to the chain after checking it; the chain's version goes up by one.

    `by` must be allowed to execute both the trigger and the action (`check_may_execute`).
    """
    relationship = Relationship(
        chain=chain, trigger=trigger, action=action, name=name, condition=condition, transformation=transformation,
        transformation_kind=transformation_kind, delay_seconds=delay_seconds, active=active,
        allow_new_chains=allow_new_chains,
    )
    return _relationship_checked_save(by=by, relationship=relationship)


@transaction.atomic
def relationship_update(
    *, by: Caller, relationship: Relationship, **changes: Unpack[RelationshipChanges]
) -> Relationship:
    """Apply `changes` and check the relationship as it then is; the chain's version goes up by one.

    `by` must be allowed to execute both the trigger and the action, changed or not: whoever edits a
    relationship decides what runs after its trigger.
    """
    for attribute, value in changes.items():
        setattr(relationship, attribute, value)
    return _relationship_checked_save(by=by, relationship=relationship)


def _relationship_checked_save(*, by: Caller, relationship: Relationship) -> Relationship:
    check_relationship(trigger=relationship.trigger, condition=relationship.condition,
                       transformation=relationship.transformation,
                       transformation_kind=relationship.transformation_kind)
    check_may_execute(by=by, functions=[relationship.trigger, relationship.action])
    relationship.save()
    _version_bump(relationship.chain)
    return relationship


@transaction.atomic
def relationship_delete(*, relationship: Relationship) -> None:
    chain = relationship.chain
    relationship.delete()
    _version_bump(chain)


def chain_create(*, name: str, description: str = "", enabled: bool = True) -> Chain:
    if Chain.objects.filter(name=name).exists():
        raise ApplicationError("duplicate", f"a chain named '{name}' exists", field="name", status=409)
    return Chain.objects.create(name=name, description=description, enabled=enabled)


def chain_set_enabled(*, chain: Chain, enabled: bool) -> Chain:
    """Disabled chains keep their relationships but none of them fires; runs already queued still run."""
    Chain.objects.filter(pk=chain.pk).update(enabled=enabled)
    chain.refresh_from_db()
    return chain


@transaction.atomic
def chain_clone(*, by: Caller, chain: Chain, name: str) -> Chain:
    """A copy of the chain and its relationships at version 1, disabled until someone enables it.

    Cloning reads the source (`read` on it) and creates relationships, each checked as `relationship_create`
    checks one.
    """
    check_caller(by=by, action="read", resource=f"chains/{chain.name}")
    relationships = list(chain.relationships.select_related("trigger", "action"))
    check_may_execute(by=by, functions=[f for r in relationships for f in (r.trigger, r.action)])
    clone = chain_create(name=name, description=chain.description, enabled=False)
    clone.cloned_from = chain
    clone.save(update_fields=["cloned_from"])
    fields: list[str] = [
        "name", "trigger_id", "action_id", "condition", "transformation", "transformation_kind",
        "delay_seconds", "active", "allow_new_chains",
    ]
    Relationship.objects.bulk_create(
        Relationship(chain=clone, **{f: getattr(r, f) for f in fields}) for r in relationships
    )
    return clone


def _version_bump(chain: Chain) -> None:
    Chain.objects.filter(pk=chain.pk).update(version=F("version") + 1)
    chain.refresh_from_db(fields=["version"])


def chain_entry_function(*, chain: Chain) -> Function:
    """The function a chain starts with: the one trigger that is no relationship's action."""
    return chain_functions(chain=chain)[0]


def chain_functions(*, chain: Chain) -> list[Function]:
    """Every function a run of the chain may execute (one query): its entry function first, then the actions."""
    relationships = list(chain.relationships.filter(active=True).select_related("trigger", "action"))
    actions = {r.action_id: r.action for r in relationships}
    entries: dict[int, Function] = {r.trigger_id: r.trigger for r in relationships if r.trigger_id not in actions}
    if len(entries) != 1:
        found: Any = sorted(f.qualified_name for f in entries.values()) or "none"
        raise ApplicationError(
            "no_entry_function", f"chain '{chain.name}' needs exactly one entry function; found {found}",
            status=409,
        )
    return [*entries.values(), *actions.values()]

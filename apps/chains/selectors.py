"""Chain reads: runs with their trees, chains with their relationships, spool depth."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from apps.chains.models import Chain, Relationship, TaskRun
from apps.core.errors import ApplicationError
from apps.runners.models import Function


def run_list() -> QuerySet[TaskRun]:
    return TaskRun.objects.select_related("function", "chain", "relationship")


def run_for_key(*, idempotency_key: str, principal: str, function: Function) -> TaskRun | None:
    """The run `principal` started for `function` with this idempotency key, if any (keys are scoped so)."""
    return TaskRun.objects.filter(idempotency_key=idempotency_key, principal=principal, function=function).first()


def run_get(*, run_id: str | UUID) -> TaskRun:
    try:
        run = run_list().filter(pk=UUID(str(run_id))).first()
    except ValueError:
        run = None
    if run is None:
        raise ApplicationError("not_found", f"no task run '{run_id}'", status=404)
    return run


def run_tree(*, run: TaskRun) -> dict[str, Any]:
    """The run and every run below it, nested by parent; one query for the whole tree."""
    root_id = run.root_id or run.pk
    members = list(run_list().filter(root_id=root_id).order_by("created_at"))
    by_parent: dict[Any, list[TaskRun]] = {}
    for member in members:
        by_parent.setdefault(member.parent_id, []).append(member)

    def node(current: TaskRun) -> dict[str, Any]:
        return {
            "id": str(current.pk),
            "function": current.function.qualified_name,
            "status": current.status,
            "attempts": current.attempts,
            "error": current.error,
            "children": [node(child) for child in by_parent.get(current.pk, [])],
        }

    return node(run)


def chain_list() -> QuerySet[Chain]:
    return Chain.objects.all()


def chain_get(*, chain_id: int) -> Chain:
    chain = Chain.objects.filter(pk=chain_id).first()
    if chain is None:
        raise ApplicationError("not_found", f"no chain {chain_id}", status=404)
    return chain


def relationship_list() -> QuerySet[Relationship]:
    return Relationship.objects.select_related("chain", "trigger", "action")


def chain_graph(*, chain: Chain) -> dict[str, Any]:
    """Nodes (functions) and edges (relationships) of a chain, for drawing it."""
    edges = list(relationship_list().filter(chain=chain))
    nodes = sorted({r.trigger.qualified_name for r in edges} | {r.action.qualified_name for r in edges})
    return {
        "nodes": nodes,
        "edges": [
            {"id": r.pk, "from": r.trigger.qualified_name, "to": r.action.qualified_name,
             "condition": r.condition, "transformation": r.transformation, "active": r.active,
             "delay_seconds": r.delay_seconds}
            for r in edges
        ],
    }

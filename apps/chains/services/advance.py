"""After a run succeeds: evaluate each matching relationship and create the child runs (fan-out for lists)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.chains.expressions import ExpressionError, expression_evaluate
from apps.chains.expressions_llm import llm_transform
from apps.chains.models import Relationship, RunStatus, TaskRun, TransformationKind
from apps.chains.services.principals import principal_decide
from apps.chains.services.sizes import check_json_size
from apps.core.errors import ApplicationError
from apps.rbac.authorization import Decision


class FanoutLimitError(Exception):
    """A list result longer than `chains.fanout_limit`: no child is started, the trigger run fails."""


# trigger function id -> (monotonic time read, its active relationships in enabled chains). Every step
# of every chain asks; reading them once per `chains.relationships_cache_ms` saves a query per step.
_by_trigger: dict[int, tuple[float, list[Relationship]]] = {}


def relationships_firing(*, run: TaskRun) -> list[Relationship]:
    """Active relationships of enabled chains on the run's function that continue its chain or may start one."""
    now = time.monotonic()
    cached = _by_trigger.get(run.function_id)
    if cached is None or now - cached[0] >= settings.CONFIG["chains.relationships_cache_ms"] / 1000:
        candidates = Relationship.objects.filter(trigger_id=run.function_id, active=True, chain__enabled=True)
        cached = now, list(candidates.select_related("chain", "action").order_by("pk"))
        _by_trigger[run.function_id] = cached
    return [r for r in cached[1] if r.chain_id == run.chain_id or r.allow_new_chains]


def relationships_forget(**_: Any) -> None:
    """Drop the cached relationships: this process saved a chain, relationship or function (a signal receiver)."""
    _by_trigger.clear()


def children_build(*, run: TaskRun, result: Any) -> list[TaskRun]:
    """The child rows for `run` (not saved). Keys are `<parent>:<relationship>:<element>[.<n>]`, unique in
    the table, so the same parent can never get the same child twice."""
    relationships = relationships_firing(run=run)
    if not relationships:
        return []
    elements = result if isinstance(result, list) else [result]
    limit = settings.CONFIG["chains.fanout_limit"]
    if isinstance(result, list) and len(result) > limit:
        raise FanoutLimitError(f"result has {len(result)} elements; chains.fanout_limit is {limit}")
    # Each LLM transformation is a model call made before the children exist: bound them like the fan-out.
    llm_calls = len(elements) * sum(r.transformation_kind == TransformationKind.LLM for r in relationships)
    if llm_calls > settings.CONFIG["chains.llm.max_calls_per_step"]:
        raise FanoutLimitError(f"this step would need up to {llm_calls} LLM transformations; "
                               f"chains.llm.max_calls_per_step is {settings.CONFIG['chains.llm.max_calls_per_step']}")
    children: list[TaskRun] = []
    for relationship in relationships:
        # A relationship may fire for anyone's run (allow_new_chains), and its action runs as that run's
        # principal: authorized here, for that principal, before anything is queued.
        decision = principal_decide(name=run.principal, action="execute", resource=relationship.action.resource)
        for index, element in enumerate(elements):
            variables = {"result": element, "payload": run.payload, "index": index}
            key = f"{run.pk}:{relationship.pk}:{index}"
            children.extend(_children_for(run, relationship, variables, key, decision))
    if len(children) > limit:
        raise FanoutLimitError(f"this step would start {len(children)} runs; chains.fanout_limit is {limit}")
    return children


def _children_for(run: TaskRun, relationship: Relationship, variables: dict[str, Any], key: str,
                  decision: Decision) -> list[TaskRun]:
    if relationship.condition.strip():
        try:
            holds = expression_evaluate(relationship.condition, variables)
        except ExpressionError as exc:
            return [_child(run, relationship, key, {}, RunStatus.FAILED, _error("condition_error", str(exc)))]
        if holds is not True:
            return [_child(run, relationship, key, {}, RunStatus.SKIPPED, None)]
    if not decision.allowed:
        # Before the transformation: an LLM transformation is a model call made for the refused principal.
        message = (f"{run.principal or 'a run without a principal'} may not execute "
                   f"{relationship.action.qualified_name}: {decision.reason}")
        return [_child(run, relationship, key, {}, RunStatus.REFUSED, _error("permission_denied", message))]
    element = variables["result"]
    if relationship.transformation.strip():
        try:
            shaped = _transform(relationship, variables)
        except ExpressionError as exc:
            return [_child(run, relationship, key, {}, RunStatus.FAILED, _error("transformation_error", str(exc)))]
    else:
        shaped = element if isinstance(element, dict) else {"value": element}
    # A transformation that builds a list fans out once more: one child per object it built.
    payloads = shaped if isinstance(shaped, list) else [shaped]
    children = []
    for position, payload in enumerate(payloads):
        child_key = key if len(payloads) == 1 and not isinstance(shaped, list) else f"{key}.{position}"
        if not isinstance(payload, dict):
            error = _error("transformation_error", f"transformation built {type(payload).__name__}, not an object")
            children.append(_child(run, relationship, child_key, {}, RunStatus.FAILED, error))
            continue
        try:
            check_json_size(value=payload, what="payload")
        except ApplicationError as exc:
            children.append(_child(run, relationship, child_key, {}, RunStatus.FAILED, _error(exc.code, exc.message)))
            continue
        children.append(_child(run, relationship, child_key, payload, RunStatus.QUEUED, None))
    return children


def _transform(relationship: Relationship, variables: dict[str, Any]) -> Any:
    if relationship.transformation_kind == TransformationKind.LLM:
        return llm_transform(instruction=relationship.transformation, variables=variables,
                             schema=relationship.action.input_schema)
    return expression_evaluate(relationship.transformation, variables)


def _child(
    run: TaskRun, relationship: Relationship, key: str, payload: dict[str, Any], status: str,
    error: dict[str, Any] | None,
) -> TaskRun:
    now = timezone.now()
    delayed = status == RunStatus.QUEUED and relationship.delay_seconds > 0
    return TaskRun(
        function_id=relationship.action_id,
        chain_id=relationship.chain_id,
        chain_version=relationship.chain.version,
        relationship=relationship,
        parent=run,
        root_id=run.root_id or run.pk,
        idempotency_key=key,
        status=status,
        payload=payload,
        error=error,
        max_attempts=relationship.action.max_attempts,
        triggered_by="chain",
        principal=run.principal,
        not_before=now + timedelta(seconds=relationship.delay_seconds) if delayed else None,
        finished_at=None if status == RunStatus.QUEUED else now,
    )


def _error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}

"""The engine as its triggers (actors, schedules, webhooks) use it: check and look up a target (a function or a
chain), start it with a payload as a principal, and record a call a trigger made in-process as a run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.chains.models import Chain, RunStatus, TaskRun
from apps.chains.selectors import run_for_key
from apps.chains.services.advance import FanoutLimitError, children_build
from apps.chains.services.chains import chain_entry_function, chain_functions
from apps.chains.services.dispatch import run_publish_on_commit
from apps.chains.services.runs import chain_trigger, run_trigger
from apps.chains.services.sizes import check_json_size
from apps.core.errors import ApplicationError
from apps.runners.models import Function


def check_target(*, function: Function | None, chain: Chain | None, payload: Any) -> None:
    """Exactly one of function and chain; the chain must have an entry function; the payload an object in size."""
    if (function is None) == (chain is None):
        raise ApplicationError("invalid_target", "point at a function or at a chain (exactly one)", field="function")
    if function is not None and not function.available:
        raise ApplicationError("function_unavailable", f"{function.qualified_name} is not loaded", field="function")
    if chain is not None:
        try:
            chain_entry_function(chain=chain)
        except ApplicationError as exc:
            raise ApplicationError(exc.code, exc.message, field="chain") from exc
    if not isinstance(payload, dict):
        raise ApplicationError("invalid", "payload must be a JSON object", field="payload")
    check_json_size(value=payload, what="payload")


def target_by_name(function_name: str | None, chain_name: str | None) -> tuple[Function | None, Chain | None]:
    """Look a target up by names (a function's qualified name, a chain's name); 404 `not_found` for an unknown one."""
    function = chain = None
    if function_name:
        function = Function.objects.filter(qualified_name=function_name, available=True).first()
        if function is None:
            raise ApplicationError("not_found", f"no runner function '{function_name}'", field="function", status=404)
    if chain_name:
        chain = Chain.objects.filter(name=chain_name).first()
        if chain is None:
            raise ApplicationError("not_found", f"no chain '{chain_name}'", field="chain", status=404)
    return function, chain


def target_function(*, function: Function | None, chain: Chain | None) -> Function:
    """The function a target runs first: the function itself, or the chain's entry function."""
    return target_functions(function=function, chain=chain)[0]


def target_functions(*, function: Function | None, chain: Chain | None) -> list[Function]:
    """Every function a target may execute, the one it runs first at the head (what starting it authorizes)."""
    if chain is not None:
        return chain_functions(chain=chain)
    assert function is not None
    return [function]


def target_trigger(
    *, function: Function | None, chain: Chain | None, payload: dict[str, Any], principal: Any, triggered_by: str,
    idempotency_key: str | None,
) -> TaskRun:
    """Start the target through the engine's own entry points (authorization, idempotency, publish after commit)."""
    if chain is not None:
        return chain_trigger(chain=chain, payload=payload, principal=principal, triggered_by=triggered_by,
                             idempotency_key=idempotency_key)
    assert function is not None
    return run_trigger(function=function, payload=payload, principal=principal,
                       triggered_by=triggered_by, idempotency_key=idempotency_key)


def target_run_for_key(*, function: Function | None, chain: Chain | None, principal: str,
                       idempotency_key: str) -> TaskRun | None:
    """The run starting the target with this key as `principal` made (or would return), if it exists yet."""
    return run_for_key(idempotency_key=idempotency_key, principal=principal,
                       function=target_function(function=function, chain=chain))


@dataclass
class Call:
    """One in-process call of a target's entry function, not yet recorded."""

    run_id: uuid.UUID
    idempotency_key: str
    function: Function
    chain: Chain | None
    principal: str
    payload: dict[str, Any]
    result: Any
    started_at: datetime
    finished_at: datetime
    log: list[dict[str, Any]] = field(default_factory=list)


def target_call_record(*, call: Call, triggered_by: str) -> TaskRun:
    """Record the call as a succeeded run and create the chain's next steps from it, exactly as a worker finishing
    that run would; call inside a transaction: the children are published after it commits."""
    run = TaskRun(
        id=call.run_id, function=call.function, chain=call.chain,
        chain_version=call.chain.version if call.chain else None, idempotency_key=call.idempotency_key,
        status=RunStatus.SUCCEEDED, payload=call.payload, result=call.result, log=call.log, attempts=1,
        max_attempts=1, deliveries=1, triggered_by=triggered_by, principal=call.principal,
        started_at=call.started_at, finished_at=call.finished_at,
    )
    try:
        children = children_build(run=run, result=call.result)
    except FanoutLimitError as exc:
        run.status, run.error, children = RunStatus.FAILED, {"code": "fanout_limit", "message": str(exc)}, []
    run.save(force_insert=True)
    TaskRun.objects.bulk_create(children)
    for child in children:
        if child.status == RunStatus.QUEUED:
            delay = (child.not_before - timezone.now()).total_seconds() if child.not_before else None
            run_publish_on_commit(run_id=str(child.pk), countdown=delay)
    return run

"""What actors do to runs: start a function or chain, or call a function in-process and record the result.

Runs an actor starts go through the engine's `run_trigger`/`chain_trigger` (RBAC, idempotency,
publish after commit). Polls and loops need the result in hand, so they call the function here, as
the actor's principal, and record a call worth keeping as a succeeded run whose children are created
in the same transaction, exactly as a worker finishing that run would.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.actors.base import ActorSnapshot
from apps.actors.models import ActorState
from apps.chains.models import FINISHED, Chain, TaskRun
from apps.chains.services.sizes import check_json_size
from apps.chains.targets import Call, target_call_record, target_function, target_functions, target_trigger
from apps.core.errors import ApplicationError
from apps.rbac.models import Principal
from apps.runners.definitions import RunContext
from apps.runners.models import Function
from apps.runners.registry import function_spec_get
from apps.runners.selectors import run_authorizer
from apps.runners.services import check_functions_execute

logger = logging.getLogger(__name__)


def actor_principal(*, actor: ActorSnapshot) -> Principal | None:
    """The actor's `run_as`, else `actors.principal`; None (every run refused by RBAC) when neither is set."""
    name = actor.run_as or settings.CONFIG["actors.principal"]
    return Principal.objects.filter(name=name).first() if name else None


def actor_target(*, actor: ActorSnapshot) -> tuple[Function | None, Chain | None]:
    function = Function.objects.filter(pk=actor.function_id).first() if actor.function_id else None
    chain = Chain.objects.filter(pk=actor.chain_id).first() if actor.chain_id else None
    if function is None and chain is None:
        raise ApplicationError("invalid_target", f"actor '{actor.name}' has no function or chain", status=409)
    return function, chain


def actor_fire(
    *, actor: ActorSnapshot, payload: dict[str, Any] | None = None, principal: Principal | None = None,
    idempotency_key: str | None = None, validate: bool = False,
) -> TaskRun:
    """Start the actor's target with its payload (updated by `payload`), as `principal` or the actor's own.

    `validate` checks the payload against the function's input schema first, so a bad message is
    refused here (FunctionInputError) rather than failing later in a worker.
    """
    function, chain = actor_target(actor=actor)
    merged = {**actor.payload, **(payload or {})}
    if validate:
        spec = function_spec_get(target_function(function=function, chain=chain).qualified_name)
        if spec is not None:
            spec.validate(merged)
    run = target_trigger(
        function=function, chain=chain, payload=merged, principal=principal or actor_principal(actor=actor),
        triggered_by="actor", idempotency_key=idempotency_key,
    )
    actor_fired(actor_id=actor.id, run=run)
    return run


def actor_fired(*, actor_id: int, run: TaskRun) -> None:
    ActorState.objects.filter(actor_id=actor_id).update(
        last_fired_at=timezone.now(), last_run=run, fired_count=F("fired_count") + 1)


def actor_call(*, actor: ActorSnapshot) -> Call:
    """Call the function (a chain's entry function) here, as the actor's principal; nothing is recorded yet."""
    function, chain = actor_target(actor=actor)
    functions = target_functions(function=function, chain=chain)
    entry = functions[0]
    principal = actor_principal(actor=actor)
    check_functions_execute(principal=principal, functions=functions)
    spec = function_spec_get(entry.qualified_name)
    if spec is None:
        raise ApplicationError("function_unavailable", f"{entry.qualified_name} is not loaded here")
    run_id = uuid.uuid4()
    key = f"actor:{actor.name}:{run_id}"
    name = principal.name if principal else ""
    context = RunContext(run_id=str(run_id), idempotency_key=key, attempt=1, function=entry.qualified_name,
                         principal=name, authorizer=run_authorizer(principal=name))
    started = timezone.now()
    result = spec.call(actor.payload, context)
    check_json_size(value=result, what="result")
    return Call(run_id=run_id, idempotency_key=key, function=entry, chain=chain,
                principal=principal.name if principal else "", payload=actor.payload,
                result=json.loads(json.dumps(result)), started_at=started, finished_at=timezone.now(),
                log=context.log_lines)


def actor_record(*, actor: ActorSnapshot, call: Call) -> TaskRun:
    """Record the call as a succeeded run and start the chain's next steps from it."""
    with transaction.atomic():
        run = target_call_record(call=call, triggered_by="actor")
    actor_fired(actor_id=actor.id, run=run)
    return run


def actor_poll_settle(*, actor: ActorSnapshot, call: Call, changed: Callable[[Any, Any], bool]) -> TaskRun | None:
    """Record the call if its result changed since the last one kept (or is the first); else only note the poll.

    Compare-and-set under the state row's lock: two nodes polling one actor fire once for one change.
    """
    with transaction.atomic():
        state = ActorState.objects.select_for_update().get(actor_id=actor.id)
        if state.last_result_at is not None and not changed(state.last_result, call.result):
            return None
        run = target_call_record(call=call, triggered_by="actor")
        state.last_result, state.last_result_at = call.result, call.finished_at
        state.last_fired_at, state.last_run, state.fired_count = timezone.now(), run, state.fired_count + 1
        state.save(update_fields=["last_result", "last_result_at", "last_fired_at", "last_run", "fired_count"])
    return run


def actor_error(*, actor_id: int, exc: BaseException) -> None:
    code = getattr(exc, "code", None) or type(exc).__name__
    logger.warning("actor %s: %s: %s", actor_id, code, exc)
    try:
        ActorState.objects.filter(actor_id=actor_id).update(
            last_error={"code": code, "message": str(exc)[:2000]}, last_error_at=timezone.now(),
            error_count=F("error_count") + 1)
    except Exception:  # the database may be what failed; the log line above stays
        logger.debug("could not record the error of actor %s", actor_id, exc_info=True)


def actor_last_run_finished(*, actor_id: int) -> bool:
    """Whether the run the actor last started, and every run below it, has finished."""
    last = ActorState.objects.filter(actor_id=actor_id).values_list("last_run_id", flat=True).first()
    if last is None:
        return True
    return not TaskRun.objects.filter(Q(pk=last) | Q(root_id=last)).exclude(status__in=FINISHED).exists()


def actor_tick_skipped(*, actor_id: int) -> None:
    ActorState.objects.filter(actor_id=actor_id).update(skipped_count=F("skipped_count") + 1)


def actor_leader_set(*, actor_id: int, holder: str) -> None:
    ActorState.objects.filter(actor_id=actor_id).update(leader=holder)

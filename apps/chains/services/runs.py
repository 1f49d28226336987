"""Task runs: triggering a function or a chain, executing a run exactly once, cancelling.

Execution contract (`run_execute`): the Celery message names a run id and may arrive more than once
(late acknowledgement redelivers after a worker dies; the spool and the sweeper may replay). Only a
queued run is claimed; a duplicate is turned away while the run's holder (services/holders.py) is
alive; a finished run is left as it is; a run found `running` without a live holder was lost with its
worker, which counts against `runners.max_deliveries` before the run is dead-lettered. The function
itself may therefore run more than once for one run: it receives the run's idempotency key to make
external effects happen once.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.chains.models import FINISHED, Chain, RunStatus, TaskRun
from apps.chains.selectors import run_for_key
from apps.chains.services.advance import FanoutLimitError, children_build
from apps.chains.services.chains import chain_functions
from apps.chains.services.dispatch import run_publish_on_commit, runs_publish
from apps.chains.services.holders import holder_alive, holder_token
from apps.chains.services.rows import EARLY_TOLERANCE, run_claim, run_finish
from apps.chains.services.sizes import check_json_size
from apps.core.errors import ApplicationError
from apps.runners.definitions import FunctionInputError, PermanentError, RunContext
from apps.runners.models import Function
from apps.runners.registry import function_spec_get
from apps.runners.selectors import function_name_get, run_authorizer
from apps.runners.services import check_functions_execute

logger = logging.getLogger(__name__)

Outcome = Literal["succeeded", "failed", "retrying", "finished_already", "busy", "dead_lettered", "missing", "early"]


def run_trigger(
    *,
    function: Function,
    payload: dict[str, Any],
    principal: Any,
    triggered_by: str,
    idempotency_key: str | None = None,
) -> TaskRun:
    """Create a queued run of one function and publish it after commit; 404 `not_found` for a function no
    extension provides any more.

    An idempotency key that the same principal used before for the same function returns the run it
    created instead of a new one; keys are never shared between principals or functions.
    """
    if not function.available:
        # Unavailable reads as unknown to whoever starts it, as when the row was looked up by name here.
        raise ApplicationError("not_found", f"no runner function '{function.qualified_name}'", field="function",
                               status=404)
    check_functions_execute(principal=principal, functions=[function])
    return _run_create(function=function, chain=None, payload=payload, principal=principal,
                       triggered_by=triggered_by, idempotency_key=idempotency_key)


def chain_trigger(*, chain: Chain, payload: dict[str, Any], principal: Any, triggered_by: str,
                  idempotency_key: str | None = None) -> TaskRun:
    """Start `chain` at its entry function, like `run_trigger`.

    Authorizes `principal` for every function of the chain: starting a chain must not run what the
    principal could not run directly.
    """
    if not chain.enabled:
        raise ApplicationError("chain_disabled", f"chain '{chain.name}' is disabled", status=409)
    functions = chain_functions(chain=chain)
    check_functions_execute(principal=principal, functions=functions)
    return _run_create(function=functions[0], chain=chain, payload=payload, principal=principal,
                       triggered_by=triggered_by, idempotency_key=idempotency_key)


def _run_create(*, function: Function, chain: Chain | None, payload: dict[str, Any], principal: Any,
                triggered_by: str, idempotency_key: str | None) -> TaskRun:
    check_json_size(value=payload, what="payload")
    if not isinstance(payload, dict):
        raise ApplicationError("invalid", "payload must be a JSON object", field="payload")
    key = idempotency_key or f"trigger:{uuid.uuid4()}"
    name = _principal_name(principal)
    if idempotency_key is not None:
        existing = run_for_key(idempotency_key=key, principal=name, function=function)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            run = TaskRun.objects.create(
                function=function, chain=chain, chain_version=chain.version if chain else None,
                idempotency_key=key, payload=payload, max_attempts=function.max_attempts,
                triggered_by=triggered_by, principal=name,
            )
            run_publish_on_commit(run_id=str(run.pk))
    except IntegrityError:
        # Two requests with the same key raced; the other one's run is the answer to both.
        return TaskRun.objects.get(idempotency_key=key, principal=name, function=function)
    return run


def run_execute(*, run_id: str) -> Outcome:
    """Execute one delivery of a run's message; see the module docstring for the contract."""
    now = timezone.now()
    claimed = run_claim(run_id=run_id, holder=holder_token(), now=now) or _claim_contended(run_id, now)
    if isinstance(claimed, str):
        return claimed
    run = claimed
    function_name = function_name_get(function_id=run.function_id)
    context = RunContext(run_id=str(run.pk), idempotency_key=run.idempotency_key, attempt=run.attempts,
                         function=function_name, principal=run.principal,
                         authorizer=run_authorizer(principal=run.principal))
    spec = function_spec_get(function_name)
    if spec is None:
        return _finish_failed(run, context, {"code": "function_unavailable",
                                             "message": f"{function_name} is not loaded here"})
    try:
        result = spec.call(run.payload, context)
    except FunctionInputError as exc:
        error = {"code": "validation_error", "message": exc.message, "field": exc.field}
        return _finish_failed(run, context, error)
    except PermanentError as exc:
        # A subclass may name its failure (`code = "network_refused"`); the run's error carries it.
        code = getattr(exc, "code", None) or "permanent_error"
        return _finish_failed(run, context, {"code": code, "message": str(exc)})
    except Exception as exc:  # noqa: BLE001 - a function's failure is recorded on the run, never crashes the worker
        logger.info("run %s attempt %d raised %s: %s", run.pk, run.attempts, type(exc).__name__, exc)
        return _finish_raised(run, context, spec.backoff_seconds,
                              {"code": "function_error", "message": f"{type(exc).__name__}: {exc}"})
    return _finish_succeeded(run, context, result)


def run_cancel(*, run: TaskRun) -> int:
    """Cancel the run if it is queued and, for a root, every queued run of its tree; returns how many.

    A running run cannot be stopped from here (its worker owns it); its queued descendants can.
    """
    now = timezone.now()
    count = TaskRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, finished_at=now)
    if run.root_id is None:
        count += TaskRun.objects.filter(root_id=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.CANCELLED, finished_at=now)
    if count == 0:
        raise ApplicationError("nothing_to_cancel", f"the run is {run.status} and nothing below it is queued",
                               status=409)
    return count


def _claim_contended(run_id: str, now: datetime) -> TaskRun | Outcome:
    """The claim found the run not queued and due: tell why, and take over a run whose holder died."""
    run = TaskRun.objects.filter(pk=run_id).first()
    if run is None:
        return "missing"
    if run.status in FINISHED:
        return "finished_already"
    if run.status == RunStatus.QUEUED:
        if run.not_before and run.not_before > now + EARLY_TOLERANCE:
            # A replay of a delayed message that lost its ETA: put it back for the right time.
            run_publish_on_commit(run_id=str(run.pk), countdown=(run.not_before - now).total_seconds())
            return "early"
        # Queued again since the claim looked (a retry was scheduled meanwhile): claim it now.
        return run_claim(run_id=run_id, holder=holder_token(), now=now) or "busy"
    if holder_alive(run.holder):
        return "busy"
    # Its worker died mid-task. Only one of several concurrent redeliveries takes it over: the update
    # is conditional on the run being exactly as it was read.
    lost = run.lost_deliveries + 1
    same = TaskRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts, holder=run.holder)
    if lost >= settings.CONFIG["runners.max_deliveries"]:
        error = {"code": "dead_lettered", "message": f"the worker died {lost} times while running it"}
        changed = same.update(status=RunStatus.DEAD_LETTERED, finished_at=now, error=error, lost_deliveries=lost,
                              deliveries=F("deliveries") + 1)
        return "dead_lettered" if changed else "busy"
    changed = same.update(attempts=F("attempts") + 1, deliveries=F("deliveries") + 1, lost_deliveries=lost,
                          started_at=now, not_before=None, holder=holder_token())
    return TaskRun.objects.get(pk=run.pk) if changed else "busy"


def _finish_succeeded(run: TaskRun, context: RunContext, result: Any) -> Outcome:
    try:
        check_json_size(value=result, what="result")
        result = json.loads(json.dumps(result))  # what is stored is exactly what later steps will see
    except ApplicationError as exc:
        return _finish_failed(run, context, {"code": exc.code, "message": exc.message})
    # Built before the finishing write: LLM transformations call the proxy. If the run turns out not to
    # be ours any more, the rows are simply never saved.
    try:
        children = children_build(run=run, result=result)
    except FanoutLimitError as exc:
        return _finish_failed(run, context, {"code": "fanout_limit", "message": str(exc)}, result=result)
    now = timezone.now()
    due = [(str(child.pk), (child.not_before - now).total_seconds() if child.not_before else None)
           for child in children if child.status == RunStatus.QUEUED]
    if not run_finish(run=run, changes=_finished(run, context, RunStatus.SUCCEEDED, None, result), children=children):
        return "finished_already"
    runs_publish(runs=due)
    return "succeeded"


def _finish_raised(run: TaskRun, context: RunContext, backoff_seconds: float, error: dict[str, Any]) -> Outcome:
    if run.attempts >= run.max_attempts:
        return _finish_failed(run, context, error)
    delay = min(backoff_seconds * 2 ** (run.attempts - 1), settings.CONFIG["runners.max_backoff_seconds"])
    changes = {"status": RunStatus.QUEUED, "error": {**error, "attempt": run.attempts},
               "not_before": timezone.now() + timedelta(seconds=delay), "log": [*run.log, *context.log_lines]}
    if not run_finish(run=run, changes=changes):
        return "finished_already"
    run_publish_on_commit(run_id=str(run.pk), countdown=delay)
    return "retrying"


def _finish_failed(run: TaskRun, context: RunContext, error: dict[str, Any], result: Any = None) -> Outcome:
    if not run_finish(run=run, changes=_finished(run, context, RunStatus.FAILED, error, result)):
        return "finished_already"
    return "failed"


def _finished(run: TaskRun, context: RunContext, status: str, error: dict[str, Any] | None,
              result: Any) -> dict[str, Any]:
    return {"status": status, "error": error, "result": result, "finished_at": timezone.now(),
            "log": [*run.log, *context.log_lines]}


def _principal_name(principal: Any) -> str:
    """Runs record who started them by name; rows outlive principals, so no foreign key."""
    if principal is None:
        return ""
    return str(getattr(principal, "name", principal))

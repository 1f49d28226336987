"""Task runs: triggering a function or a chain, executing a run exactly once, cancelling.

Execution contract (`run_execute`): the Celery message names a run id and may arrive more than once
(late acknowledgement redelivers after a worker dies; the spool may replay). The run's advisory lock
turns away a duplicate while an execution is live; a finished run is left as it is; a run found
`running` without a live holder was lost with its worker, which counts against
`runners.max_deliveries` before the run is dead-lettered. The function itself may therefore run more
than once for one run: it receives the run's idempotency key to make external effects happen once.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.chains.models import FINISHED, Chain, RunStatus, TaskRun
from apps.chains.services.advance import FanoutLimitError, children_build
from apps.chains.services.chains import chain_entry_function
from apps.chains.services.dispatch import run_publish_on_commit
from apps.chains.services.limits import check_json_size
from apps.chains.services.locks import run_lock
from apps.core.errors import ApplicationError
from apps.runners.definitions import FunctionInputError, PermanentError, RunContext
from apps.runners.models import Function
from apps.runners.registry import function_spec_get
from apps.runners.services import check_function_execute

logger = logging.getLogger(__name__)

Outcome = Literal["succeeded", "failed", "retrying", "finished_already", "busy", "dead_lettered", "missing", "early"]


def run_trigger(
    *,
    function_name: str,
    payload: dict[str, Any],
    principal: Any,
    triggered_by: str,
    idempotency_key: str | None = None,
    chain: Chain | None = None,
) -> TaskRun:
    """Create a queued run of one function (optionally as the start of `chain`) and publish it after commit.

    Authorizes `principal` for the function and, when a chain is started, for every action of the chain:
    starting a chain must not run what the principal could not run directly. An idempotency key that
    was used before returns the run it created instead of a new one.
    """
    function = _function_get(function_name)
    check_function_execute(principal=principal, function=function)
    if chain is not None:
        for relationship in chain.relationships.filter(active=True).select_related("action"):
            check_function_execute(principal=principal, function=relationship.action)
    check_json_size(value=payload, what="payload")
    if not isinstance(payload, dict):
        raise ApplicationError("invalid", "payload must be a JSON object", field="payload")
    key = idempotency_key or f"trigger:{uuid.uuid4()}"
    existing = TaskRun.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            run = TaskRun.objects.create(
                function=function, chain=chain, chain_version=chain.version if chain else None,
                idempotency_key=key, payload=payload, max_attempts=function.max_attempts,
                triggered_by=triggered_by, principal=_principal_name(principal),
            )
            run_publish_on_commit(run_id=str(run.pk))
    except IntegrityError:
        # Two requests with the same key raced; the other one's run is the answer to both.
        return TaskRun.objects.get(idempotency_key=key)
    return run


def chain_trigger(*, chain: Chain, payload: dict[str, Any], principal: Any, triggered_by: str,
                  idempotency_key: str | None = None) -> TaskRun:
    """Start `chain` at its entry function."""
    if not chain.enabled:
        raise ApplicationError("chain_disabled", f"chain '{chain.name}' is disabled", status=409)
    entry = chain_entry_function(chain=chain)
    return run_trigger(function_name=entry.qualified_name, payload=payload, principal=principal,
                       triggered_by=triggered_by, idempotency_key=idempotency_key, chain=chain)


def run_execute(*, run_id: str) -> Outcome:
    """Execute one delivery of a run's message; see the module docstring for the contract."""
    with run_lock(run_id) as acquired:
        if not acquired:
            return "busy"
        claimed = _claim(run_id)
        if isinstance(claimed, str):
            return claimed
        run, context = claimed
        spec = function_spec_get(run.function.qualified_name)
        if spec is None:
            return _finish_failed(run, context, {"code": "function_unavailable",
                                                 "message": f"{run.function.qualified_name} is not loaded here"})
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
            return _finish_raised(run, context, {"code": "function_error", "message": f"{type(exc).__name__}: {exc}"})
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


def runs_requeue(*, older_than_seconds: int) -> int:
    """Publish again every queued run that is due and older than the threshold (a lost or evicted message).

    Safe to run any time: a run that also still has its message executes once, the other delivery
    finds it finished.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    due = TaskRun.objects.filter(status=RunStatus.QUEUED, created_at__lt=cutoff).exclude(not_before__gt=timezone.now())
    count = 0
    with transaction.atomic():
        for run_id in due.values_list("pk", flat=True).iterator():
            run_publish_on_commit(run_id=str(run_id))
            count += 1
    return count


def _function_get(qualified_name: str) -> Function:
    function = Function.objects.filter(qualified_name=qualified_name, available=True).first()
    if function is None:
        raise ApplicationError("not_found", f"no runner function '{qualified_name}'", field="function", status=404)
    return function


def _claim(run_id: str) -> tuple[TaskRun, RunContext] | Outcome:
    now = timezone.now()
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().select_related("function").filter(pk=run_id).first()
        if run is None:
            return "missing"
        if run.status in FINISHED:
            return "finished_already"
        if run.not_before and run.not_before > now + timedelta(seconds=1):
            # A replay of a delayed message that lost its ETA: put it back for the right time.
            run_publish_on_commit(run_id=str(run.pk), countdown=(run.not_before - now).total_seconds())
            return "early"
        run.deliveries += 1
        if run.status == RunStatus.RUNNING:
            run.lost_deliveries += 1
        if run.lost_deliveries >= settings.CONFIG["runners.max_deliveries"]:
            run.status = RunStatus.DEAD_LETTERED
            run.finished_at = now
            run.error = {"code": "dead_lettered",
                         "message": f"the worker died {run.lost_deliveries} times while running it"}
            run.save()
            return "dead_lettered"
        run.status = RunStatus.RUNNING
        run.attempts += 1
        run.started_at = now
        run.not_before = None
        run.save()
    context = RunContext(run_id=str(run.pk), idempotency_key=run.idempotency_key, attempt=run.attempts,
                         function=run.function.qualified_name)
    return run, context


def _finish_succeeded(run: TaskRun, context: RunContext, result: Any) -> Outcome:
    try:
        check_json_size(value=result, what="result")
        result = json.loads(json.dumps(result))  # what is stored is exactly what later steps will see
    except ApplicationError as exc:
        return _finish_failed(run, context, {"code": exc.code, "message": exc.message})
    # Built before the transaction: LLM transformations call the proxy, and no row lock is held meanwhile.
    # If the run turns out not to be ours any more, the rows are simply never saved.
    try:
        children, fanout_error = children_build(run=run, result=result), None
    except FanoutLimitError as exc:
        children, fanout_error = [], exc
    with transaction.atomic():
        if not _still_ours(run):
            return "finished_already"
        run.result = result
        if fanout_error is not None:
            _save_finished(run, context, RunStatus.FAILED, {"code": "fanout_limit", "message": str(fanout_error)})
            return "failed"
        _save_finished(run, context, RunStatus.SUCCEEDED, None)
        TaskRun.objects.bulk_create(children)
        for child in children:
            if child.status == RunStatus.QUEUED:
                delay = (child.not_before - timezone.now()).total_seconds() if child.not_before else None
                run_publish_on_commit(run_id=str(child.pk), countdown=delay)
    return "succeeded"


def _finish_raised(run: TaskRun, context: RunContext, error: dict[str, Any]) -> Outcome:
    if run.attempts >= run.max_attempts:
        return _finish_failed(run, context, error)
    spec = function_spec_get(run.function.qualified_name)
    base = spec.backoff_seconds if spec else run.function.backoff_seconds
    delay = min(base * 2 ** (run.attempts - 1), settings.CONFIG["runners.max_backoff_seconds"])
    with transaction.atomic():
        if not _still_ours(run):
            return "finished_already"
        run.status = RunStatus.QUEUED
        run.error = {**error, "attempt": run.attempts}
        run.not_before = timezone.now() + timedelta(seconds=delay)
        run.log = [*run.log, *context.log_lines]
        run.save(update_fields=["status", "error", "not_before", "log"])
        run_publish_on_commit(run_id=str(run.pk), countdown=delay)
    return "retrying"


def _finish_failed(run: TaskRun, context: RunContext, error: dict[str, Any]) -> Outcome:
    with transaction.atomic():
        if not _still_ours(run):
            return "finished_already"
        _save_finished(run, context, RunStatus.FAILED, error)
    return "failed"


def _save_finished(run: TaskRun, context: RunContext, status: str, error: dict[str, Any] | None) -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.log = [*run.log, *context.log_lines]
    run.save(update_fields=["status", "error", "finished_at", "log", "result"])


def _still_ours(run: TaskRun) -> bool:
    """Re-read under lock: only the delivery that claimed the run may finish it."""
    current = TaskRun.objects.select_for_update().only("status", "attempts").get(pk=run.pk)
    return current.status == RunStatus.RUNNING and current.attempts == run.attempts


def _principal_name(principal: Any) -> str:
    """Runs record who started them by name; rows outlive principals, so no foreign key."""
    if principal is None:
        return ""
    return str(getattr(principal, "name", principal))

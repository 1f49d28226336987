"""Who saves what runs as whom: the access checks every trigger and relationship write passes, whatever the door."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from apps.core.errors import ApplicationError
from apps.rbac.authorization import authorize
from apps.rbac.models import Principal
from apps.rbac.services.grants import impersonate_check
from apps.runners.models import Function
from apps.runners.services import check_functions_execute

# Who saves: a principal (API, admin), or the host itself: the CLI and extensions' declarations run with
# the database and the secrets in hand, so they could act as anyone anyway.
HOST: Final = "host"
Caller = Principal | Literal["host"] | None


def check_run_as(*, by: Caller, run_as: Principal | None) -> None:
    """Raise 403 `permission_denied` (field `run_as`) unless `by` may make runs run as `run_as`.

    Whoever decides what a trigger runs, or can fire it with input of their choice, acts as its
    principal: that takes `impersonate` on `rbac/principals/<name>`, except for acting as oneself.
    """
    if run_as is None or by == HOST:
        return
    if not isinstance(by, Principal):
        raise ApplicationError("permission_denied", f"an anonymous caller may not act as {run_as.name}",
                               field="run_as", status=403)
    impersonate_check(actor=by, principal=run_as, field="run_as")


def check_caller(*, by: Caller, action: str, resource: str, field: str | None = None) -> None:
    """Raise 403 `permission_denied` (naming `field`) unless `by` may do `action` on `resource` (the host may)."""
    if by == HOST:
        return
    decision = authorize(by if isinstance(by, Principal) else None, action, resource)
    if not decision.allowed:
        raise ApplicationError("permission_denied", f"not allowed to {action} {resource}: {decision.reason}",
                               field=field, status=403)


def check_may_execute(*, by: Caller, functions: Sequence[Function]) -> None:
    """Raise 403 `permission_denied` unless `by` may execute every one of `functions` (the host may)."""
    if by != HOST:
        check_functions_execute(principal=by, functions=functions)

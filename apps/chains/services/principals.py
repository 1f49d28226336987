"""Decisions for the principals runs act for, from a per-worker snapshot of their policies (no query per step)."""

from __future__ import annotations

import time
from typing import Any

from apps.rbac.authorization import REASON_INACTIVE, REASON_NO_PRINCIPAL, Decision, PolicyData, policies_evaluate
from apps.rbac.models import Principal
from apps.rbac.selectors import principal_may_act, principal_policy_data

# How long a worker trusts what it read: RBAC changes reach running chains within this time in both
# modes (lite mode's cache is per process, so no shared version can tell a worker sooner).
SNAPSHOT_SECONDS = 1.0

# principal name -> (monotonic time read, its effective policies, or a refusal when it cannot act)
_snapshots: dict[str, tuple[float, tuple[PolicyData, ...] | Decision]] = {}


def principal_decide(*, name: str, action: str, resource: str) -> Decision:
    """`authorize` for the principal called `name` (a run's `principal`), read at most once a second per worker."""
    now = time.monotonic()
    cached = _snapshots.get(name)
    if cached is None or now - cached[0] >= SNAPSHOT_SECONDS:
        cached = now, _policies(name)
        _snapshots[name] = cached
    policies = cached[1]
    if isinstance(policies, Decision):
        return policies
    return policies_evaluate(policies, action, resource)


def principals_forget(**_: Any) -> None:
    """Drop every snapshot: this process changed a principal, a policy or a login (a signal receiver)."""
    _snapshots.clear()


def _policies(name: str) -> tuple[PolicyData, ...] | Decision:
    principal = Principal.objects.select_related("user").filter(name=name).first() if name else None
    if principal is None:
        return Decision(False, REASON_NO_PRINCIPAL)
    if not principal_may_act(principal):
        return Decision(False, REASON_INACTIVE)
    return principal_policy_data(principal=principal)

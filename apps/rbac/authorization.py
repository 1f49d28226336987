"""The one decision function, `authorize(principal, action, resource)`, used by every entry point.

REST API, admin actions, runner invocation, proxy model access and MCP all ask here. The proxy, which
must not touch the database per request, caches `principal_policy_data()` and calls
`policies_evaluate()` on the snapshot instead; the semantics are the same function.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from apps.rbac.decisions import (
    REASON_ALLOWED,
    REASON_DENIED,
    REASON_INACTIVE,
    REASON_INVALID_ACTION,
    REASON_INVALID_RESOURCE,
    REASON_NO_MATCH,
    REASON_NO_POLICIES,
    REASON_NO_PRINCIPAL,
    Decision,
    PolicyData,
    RuleData,
    policies_evaluate,
)
from apps.rbac.models import Principal
from apps.rbac.selectors import principal_may_act, principal_policy_data
from apps.rbac.services import principal_ensure_for_user

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the AUTH_USER_MODEL, as django-stubs resolves it

logger = logging.getLogger(__name__)

__all__ = [
    "REASON_ALLOWED",
    "REASON_DENIED",
    "REASON_INACTIVE",
    "REASON_INVALID_ACTION",
    "REASON_INVALID_RESOURCE",
    "REASON_NO_MATCH",
    "REASON_NO_POLICIES",
    "REASON_NO_PRINCIPAL",
    "Decision",
    "PolicyData",
    "RuleData",
    "authorize",
    "authorize_each",
    "policies_evaluate",
    "principal_for_user",
    "principal_policy_data",
]


def authorize(principal: Principal | None, action: str, resource: str) -> Decision:
    """May `principal` perform `action` on `resource`? The decision names the rule that settled it.

    Effective policies are the principal's own plus those of the active teams it is directly in (and
    admin for a Django superuser). Deny always wins; no policies, an inactive principal, an unknown
    action or a malformed resource is a deny; otherwise the first matching allow rule decides.
    """
    return authorize_each(principal, action, [resource])[0]


def authorize_each(principal: Principal | None, action: str, resources: Sequence[str]) -> list[Decision]:
    """`authorize` for several resources at once, reading the principal's policies once (one decision each)."""
    if principal is None:
        decisions = [Decision(False, REASON_NO_PRINCIPAL)] * len(resources)
    elif not principal_may_act(principal):
        decisions = [Decision(False, REASON_INACTIVE)] * len(resources)
    else:
        policies = principal_policy_data(principal=principal)
        decisions = [policies_evaluate(policies, action, resource) for resource in resources]
    for resource, decision in zip(resources, decisions, strict=True):
        if not decision.allowed:
            logger.debug("rbac deny: %s %s %s: %s", principal.name if principal else "-", action, resource,
                         decision.describe())
    return decisions


def principal_for_user(user: User) -> Principal:
    """The principal of a Django login, created (with no policies) the first time it is needed."""
    return principal_ensure_for_user(user=user)

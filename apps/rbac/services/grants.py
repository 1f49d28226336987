"""Checks every RBAC write makes for the principal doing it (the actor), so no narrow right adds up to admin.

`actor` None is the installation itself: the host's CLI, bootstrap and migrations, run by whoever can
read the database and the secrets anyway. Every interface that acts for a request passes its principal.

- Issuing a key for another principal is acting as it: `impersonate` on `rbac/principals/<name>`.
- Attaching or detaching a policy (directly, through a team, or by joining or leaving a team) needs
  `grant` on `rbac/policies/<name>`, and the actor's own rights must cover what changes hands: the
  policy's allow rules when it is attached, its deny rules when they are lifted (detached, deleted, or
  edited away). Editing a policy's rules likewise needs rights covering the new document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from apps.core.errors import ApplicationError
from apps.rbac import authorization  # a module, not its names: authorization imports these services
from apps.rbac.decisions import PolicyData, RuleData
from apps.rbac.grants import rights_shortfalls
from apps.rbac.models import Policy, Principal
from apps.rbac.selectors import principal_policy_data


def impersonate_check(*, actor: Principal | None, principal: Principal, field: str | None = None) -> None:
    """Acting as `principal` (a key for it, a run as it) needs `impersonate` on it; acting as oneself needs nothing.

    The one rule for every door that makes something act as a principal; `field` names the request field the
    403 is about (`run_as` for triggers)."""
    if actor is None or actor.pk == principal.pk:
        return
    _authorized_or_403(actor, "impersonate", f"rbac/principals/{principal.name}", field=field)


def policies_change_check(*, actor: Principal | None, attached: Iterable[Policy] = (),
                          detached: Iterable[Policy] = ()) -> None:
    """Raise 403 `permission_denied` (no `grant` on a policy) or `grant_exceeds_rights` (the actor does
    not hold what would change hands), naming the policy and the rule."""
    if actor is None:
        return
    attached, detached = list(attached), list(detached)
    for policy in [*attached, *detached]:
        _authorized_or_403(actor, "grant", f"rbac/policies/{policy.name}")
    for policy in attached:
        data = _data(policy.name, policy.rules, policy.deny)
        _covered_or_403(actor, policy.name, rights=data.rules, withheld=data.deny)
    for policy in detached:
        _covered_or_403(actor, policy.name, rights=_data(policy.name, [], policy.deny).deny)


def policy_edit_check(*, actor: Principal | None, policy: Policy, rules: list[object], deny: list[object]) -> None:
    """Editing is detaching the old document and attaching the new one for everyone who holds it.

    The new allow rules must be covered, and so must every old deny rule the edit drops.
    """
    if actor is None:
        return
    new = _data(policy.name, rules, deny)
    lifted = [rule for rule in _data(policy.name, [], policy.deny).deny if rule not in new.deny]
    _covered_or_403(actor, policy.name, rights=new.rules, withheld=new.deny)
    _covered_or_403(actor, policy.name, rights=lifted)


def teams_change_check(*, actor: Principal | None, joined: Iterable[Principal] = (),
                       left: Iterable[Principal] = ()) -> None:
    """Joining a team is being given its policies, and leaving it lifts their deny rules."""
    policies_change_check(actor=actor, attached=[p for team in joined for p in team.policies.all()],
                          detached=[p for team in left for p in team.policies.all()])


def self_delete_check(*, actor: Principal | None, principal: Principal) -> None:
    if actor is not None and actor.pk == principal.pk:
        raise ApplicationError("cannot_delete_self", "A principal cannot delete itself", status=409)


def _data(name: str, rules: object, deny: object) -> PolicyData:
    return PolicyData.from_document(name, rules=rules, deny=deny)


def _authorized_or_403(actor: Principal, action: str, resource: str, field: str | None = None) -> None:
    decision = authorization.authorize(actor, action, resource)
    if not decision.allowed:
        raise ApplicationError("permission_denied", f"{action} on {resource} denied: {decision.reason}",
                               field=field, status=403)


def _covered_or_403(actor: Principal, policy: str, *, rights: Sequence[RuleData],
                    withheld: Sequence[RuleData] = ()) -> None:
    problems = rights_shortfalls(principal_policy_data(principal=actor), rights=rights, withheld=withheld)
    if problems:
        raise ApplicationError("grant_exceeds_rights", f"Policy {policy}: {problems[0]}"
                               + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""), status=403)

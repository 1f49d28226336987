"""Policy writes: create, update and delete (validated; built-ins read-only), attach and detach."""

from __future__ import annotations

from typing import Any

from apps.core.errors import ApplicationError
from apps.rbac.builtin import builtin_policies_write
from apps.rbac.checks import policy_document_check
from apps.rbac.models import Policy, Principal
from apps.rbac.services.common import name_available_check, name_unique_atomic
from apps.rbac.services.grants import policies_change_check, policy_edit_check


def policy_create(*, name: str, rules: list[Any], deny: list[Any] | None = None, description: str = "") -> Policy:
    """Create a policy after validating its rules; raises PolicyInvalid (`invalid_rule`, `invalid_path`,
    `invalid_action` with a field such as `rules.0.path`), `invalid_name` or `name_taken`."""
    deny = [] if deny is None else deny
    name_available_check(Policy, name)
    policy_document_check(rules=rules, deny=deny)
    with name_unique_atomic(Policy, name):
        return Policy.objects.create(name=name, description=description, rules=rules, deny=deny)


def policy_update(
    *,
    policy: Policy,
    name: str | None = None,
    description: str | None = None,
    rules: list[Any] | None = None,
    deny: list[Any] | None = None,
    actor: Principal | None = None,
) -> Policy:
    """Change what is given (None leaves a field alone), validating the resulting document as a whole.

    Everyone holding the policy gets the new rules, so `actor` must hold what they give and what the
    edit stops denying (`grant_exceeds_rights`, 403).
    """
    policy_writable_check(policy)
    if name is not None and name != policy.name:
        name_available_check(Policy, name, instance=policy)
        policy.name = name
    if description is not None:
        policy.description = description
    new_rules = policy.rules if rules is None else rules
    new_deny = policy.deny if deny is None else deny
    policy_document_check(rules=new_rules, deny=new_deny)
    if (new_rules, new_deny) != (policy.rules, policy.deny):  # a new name or description gives nothing
        policy_edit_check(actor=actor, policy=policy, rules=new_rules, deny=new_deny)
    policy.rules, policy.deny = new_rules, new_deny
    with name_unique_atomic(Policy, policy.name):
        policy.save()
    return policy


def policy_delete(*, policy: Policy, actor: Principal | None = None) -> None:
    """Delete a custom policy; whoever held it loses what it allowed (and what it denied), so `actor`
    must hold what its deny rules withheld."""
    policy_writable_check(policy)
    policy_edit_check(actor=actor, policy=policy, rules=[], deny=[])
    policy.delete()


def policy_attach(*, principal: Principal, policy: Policy, actor: Principal | None = None) -> None:
    """Attach `policy` to `principal` (idempotent). Attaching a built-in policy is the usual way to grant a role.

    `actor` needs `grant` on the policy and must hold what it allows (see `services/grants.py`).
    """
    policies_change_check(actor=actor, attached=[policy])
    principal.policies.add(policy)


def policy_detach(*, principal: Principal, policy: Policy, actor: Principal | None = None) -> None:
    """Detach `policy` from `principal` (idempotent); `actor` needs `grant` on it and must hold what it denies."""
    policies_change_check(actor=actor, detached=[policy])
    principal.policies.remove(policy)


def policy_builtin_ensure() -> list[str]:
    """Create or restore the built-in policies; returns the names written. Runs after every `migrate`."""
    return builtin_policies_write(Policy)


def policy_writable_check(policy: Policy) -> None:
    if policy.builtin:
        raise ApplicationError("builtin_policy_readonly", f"Built-in policy {policy.name!r} is read-only; "
                               "create your own policy instead", status=409)

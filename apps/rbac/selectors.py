"""RBAC reads: lookups by name, and the effective policies of a principal (own, teams', superuser's)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from apps.core.errors import ApplicationError
from apps.rbac.builtin import ADMIN, ANONYMOUS
from apps.rbac.decisions import PolicyData
from apps.rbac.models import ApiKey, Policy, Principal, PrincipalKind

VIA_DIRECT = "direct"
VIA_SUPERUSER = "superuser"


@dataclass(frozen=True)
class EffectivePolicy:
    policy: Policy
    via: tuple[str, ...]  # "direct", "superuser", "team:<name>"; a policy may arrive several ways


def principal_get(*, name: str) -> Principal:
    principal = principal_queryset().filter(name=name).first()
    if principal is None:
        raise ApplicationError("principal_not_found", f"No principal named {name!r}", field="principal", status=404)
    return principal


def policy_get(*, name: str) -> Policy:
    policy = Policy.objects.filter(name=name).first()
    if policy is None:
        raise ApplicationError("policy_not_found", f"No policy named {name!r}", field="policy", status=404)
    return policy


def api_key_get(*, prefix: str) -> ApiKey:
    api_key = api_key_queryset().filter(prefix=prefix).first()
    if api_key is None:
        raise ApplicationError("api_key_not_found", f"No API key with prefix {prefix!r}", field="prefix", status=404)
    return api_key


def principal_queryset() -> QuerySet[Principal]:
    return Principal.objects.select_related("user").prefetch_related("teams", "policies")


def api_key_queryset() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("principal")


def principal_anonymous() -> Principal | None:
    """The built-in principal callers without a key act as; None only if it was removed behind the services'
    back, and then they may do nothing."""
    return principal_queryset().filter(name=ANONYMOUS, kind=PrincipalKind.SERVICE, user__isnull=True).first()


def principal_is_anonymous(principal: Principal) -> bool:
    return principal.name == ANONYMOUS and principal.kind == PrincipalKind.SERVICE and principal.user_id is None


def principal_may_act(principal: Principal) -> bool:
    """Active, and so is the login it stands for (a disabled Django user disables its principal)."""
    return principal.is_active and (principal.user is None or principal.user.is_active)


def principal_policies_effective(*, principal: Principal) -> list[EffectivePolicy]:
    """The policies that govern `principal`, by name: its own, its active teams', and admin for superusers.

    No inheritance beyond that: a team's teams do not count, and policies never include one another.
    A superuser's principal holds the built-in admin policy for as long as the login is a superuser.
    """
    found: dict[int, tuple[Policy, list[str]]] = {}

    def add(policy: Policy, via: str) -> None:
        found.setdefault(policy.pk, (policy, []))[1].append(via)

    for policy in principal.policies.all():
        add(policy, VIA_DIRECT)
    if principal.user is not None and principal.user.is_superuser:
        admin = Policy.objects.filter(name=ADMIN, builtin=True).first()
        if admin is not None:
            add(admin, VIA_SUPERUSER)
    for team in principal.teams.filter(is_active=True).prefetch_related("policies"):
        for policy in team.policies.all():
            add(policy, f"team:{team.name}")
    return [EffectivePolicy(policy, tuple(via)) for policy, via in sorted(found.values(), key=lambda p: p[0].name)]


def principal_policy_data(*, principal: Principal) -> tuple[PolicyData, ...]:
    """The effective policies as plain data, ready for `policies_evaluate` or a cache."""
    return tuple(
        PolicyData.from_document(item.policy.name, rules=item.policy.rules, deny=item.policy.deny)
        for item in principal_policies_effective(principal=principal)
    )

"""Principal writes: create, update, delete, and the principal that stands for a Django login."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from apps.core.errors import ApplicationError
from apps.rbac.globs import name_is_valid
from apps.rbac.models import Policy, Principal, PrincipalKind
from apps.rbac.selectors import principal_is_anonymous
from apps.rbac.services.common import name_available_check, name_unique_atomic
from apps.rbac.services.grants import policies_change_check, self_delete_check, teams_change_check

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the AUTH_USER_MODEL, as django-stubs resolves it

_UNSAFE = re.compile(r"[^A-Za-z0-9._@:-]+")


def principal_create(
    *,
    name: str,
    kind: str = PrincipalKind.USER,
    description: str = "",
    is_active: bool = True,
    user: User | None = None,
    teams: Sequence[Principal] = (),
    policies: Sequence[Policy] = (),
    actor: Principal | None = None,
) -> Principal:
    """Create a principal with its team memberships and policies in one transaction.

    Raises `invalid_name`, `name_taken` (409), `invalid_kind`, `invalid_user_link`, `user_taken` (409)
    and `invalid_team` as ApplicationError; `permission_denied` or `grant_exceeds_rights` (403) when
    `actor` may not give it those policies or teams (see `services/grants.py`).
    """
    if kind not in PrincipalKind.values:
        raise ApplicationError("invalid_kind", f"kind must be one of {', '.join(PrincipalKind.values)}", field="kind")
    name_available_check(Principal, name)
    if user is not None:
        _user_link_check(kind, user)
    teams_check(kind=kind, teams=teams)
    policies_change_check(actor=actor, attached=policies)
    teams_change_check(actor=actor, joined=teams)
    with name_unique_atomic(Principal, name):
        principal = Principal.objects.create(
            name=name, kind=kind, description=description, is_active=is_active, user=user,
        )
        principal.teams.set(teams)
        principal.policies.set(policies)
    return principal


def principal_update(
    *,
    principal: Principal,
    name: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    teams: Sequence[Principal] | None = None,
    policies: Sequence[Policy] | None = None,
    actor: Principal | None = None,
) -> Principal:
    """Change what is given (None leaves a field alone). Kind and login link are fixed at creation.

    Renaming changes the principal's resource (`rbac/principals/<name>`); its policies and keys stay.
    Policies and teams that change are checked as grants by `actor`, as in `principal_create`.
    """
    if name is not None and name != principal.name:
        builtin_principal_check(principal)
        name_available_check(Principal, name, instance=principal)
        principal.name = name
    if description is not None:
        principal.description = description
    if is_active is not None:
        principal.is_active = is_active
    if teams is not None:
        teams_check(kind=principal.kind, teams=teams, member=principal)
        current_teams = list(principal.teams.all())
        teams_change_check(actor=actor, joined=[t for t in teams if t not in current_teams],
                           left=[t for t in current_teams if t not in teams])
    if policies is not None:
        current = list(principal.policies.all())
        policies_change_check(actor=actor, attached=[p for p in policies if p not in current],
                              detached=[p for p in current if p not in policies])
    with name_unique_atomic(Principal, principal.name):
        principal.save()
        if teams is not None:
            principal.teams.set(teams)
        if policies is not None:
            principal.policies.set(policies)
    return principal


def principal_delete(*, principal: Principal, actor: Principal | None = None) -> None:
    """Delete a principal and its API keys; deleting a team removes its policies from its members.

    Nobody deletes itself (`cannot_delete_self`, 409): it would lock its holder out mid-request, and the
    last administrator out for good. Deleting a team lifts its deny rules, checked as detaching its policies.
    """
    builtin_principal_check(principal)
    self_delete_check(actor=actor, principal=principal)
    teams_change_check(actor=actor, left=[principal] if principal.kind == PrincipalKind.TEAM else [])
    principal.delete()


def builtin_principal_check(principal: Principal) -> None:
    """`anonymous` keeps its name and row (it would come back at the next migrate with its initial policy);
    turn anonymous access off by deactivating it or detaching its policies."""
    if principal_is_anonymous(principal):
        raise ApplicationError("builtin_principal", f"{principal.name!r} is built in: it cannot be renamed or "
                               "deleted; deactivate it or change its policies instead", status=409)


def teams_check(*, kind: str, teams: Sequence[Principal], member: Principal | None = None) -> None:
    """Only users and service accounts join teams, and only principals of kind team are teams.

    Teams cannot nest: membership is one level, so a principal's policies are always its own plus
    those of the teams it is directly in ("no inheritance").
    """
    if teams and kind == PrincipalKind.TEAM:
        raise ApplicationError("invalid_team", "a team cannot be a member of another team", field="teams")
    for team in teams:
        if team.kind != PrincipalKind.TEAM:
            raise ApplicationError("invalid_team", f"{team.name!r} is a {team.kind}, not a team", field="teams")
        if member is not None and team.pk == member.pk:
            raise ApplicationError("invalid_team", "a principal cannot be its own team", field="teams")


def principal_ensure_for_user(*, user: User) -> Principal:
    """The user principal of a Django login, created on first use (named after the username).

    Safe under concurrent first requests: the login link is unique, so the loser of a race reads the
    winner's row. When the name is held by another principal, the login's id is appended.
    """
    existing = Principal.objects.select_related("user").filter(user=user).first()
    if existing is not None:
        return existing
    base = _name_from_username(user.get_username(), user.pk)
    for candidate in (base, f"{base[:90]}-{user.pk}", f"user-{user.pk}"):
        try:
            with transaction.atomic():
                return Principal.objects.create(kind=PrincipalKind.USER, name=candidate, user=user,
                                                description=f"Login {user.get_username()!r}")
        except IntegrityError:
            existing = Principal.objects.select_related("user").filter(user=user).first()
            if existing is not None:
                return existing
    raise ApplicationError("name_taken", f"No free principal name for login {user.get_username()!r}", status=409)


def _user_link_check(kind: str, user: User) -> None:
    if kind != PrincipalKind.USER:
        raise ApplicationError("invalid_user_link", "only user principals link to a login", field="user")
    if Principal.objects.filter(user=user).exists():
        raise ApplicationError("user_taken", f"Login {user.get_username()!r} already has a principal",
                               field="user", status=409)


def _name_from_username(username: str, pk: int) -> str:
    """Django allows characters in usernames (`+`, non-ASCII letters) that resource segments do not."""
    name = _UNSAFE.sub("-", username)[:100]
    return name if name_is_valid(name) else f"user-{pk}"

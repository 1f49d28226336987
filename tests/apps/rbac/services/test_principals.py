"""Principal services: creation with teams and policies, the rules of team membership, login principals."""

from __future__ import annotations

import pytest

from apps.core.errors import ApplicationError
from apps.rbac.models import Principal
from apps.rbac.services import principal_create, principal_delete, principal_ensure_for_user, principal_update
from tests.apps.rbac.factories import PolicyFactory, PrincipalFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_principal_create_sets_teams_and_policies() -> None:
    team, policy = TeamFactory(name="ops"), PolicyFactory(name="readers")

    principal = principal_create(name="deploy-bot", kind="service", teams=[team], policies=[policy])

    assert (principal.kind, list(principal.teams.all()), list(principal.policies.all())) == (
        "service", [team], [policy])


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"name": "a/b"}, "invalid_name"),
    ({"name": "ok", "kind": "robot"}, "invalid_kind"),
    ({"name": "ok", "kind": "team", "teams": "TEAM"}, "invalid_team"),
    ({"name": "ok", "teams": "USER"}, "invalid_team"),
])
def test_principal_create_rejects(kwargs: dict, code: str) -> None:
    if kwargs.get("teams") == "TEAM":
        kwargs["teams"] = [TeamFactory()]
    elif kwargs.get("teams") == "USER":
        kwargs["teams"] = [PrincipalFactory()]

    with pytest.raises(ApplicationError) as caught:
        principal_create(**kwargs)

    assert caught.value.code == code


def test_principal_names_are_unique() -> None:
    PrincipalFactory(name="alice")

    with pytest.raises(ApplicationError) as caught:
        principal_create(name="alice")

    assert (caught.value.code, caught.value.status, caught.value.field) == ("name_taken", 409, "name")


def test_a_login_links_to_one_principal_of_kind_user() -> None:
    user = UserFactory()
    principal_create(name="first", user=user)

    with pytest.raises(ApplicationError) as taken:
        principal_create(name="second", user=user)
    with pytest.raises(ApplicationError) as wrong_kind:
        principal_create(name="third", kind="service", user=UserFactory())

    assert (taken.value.code, wrong_kind.value.code) == ("user_taken", "invalid_user_link")


def test_principal_update_renames_and_replaces_memberships() -> None:
    principal = PrincipalFactory(name="old", teams=[TeamFactory()])
    team = TeamFactory(name="new-team")

    principal_update(principal=principal, name="new", teams=[team], is_active=False)
    principal.refresh_from_db()

    assert (principal.name, principal.is_active, list(principal.teams.all())) == ("new", False, [team])


def test_a_principal_cannot_be_its_own_team() -> None:
    team = TeamFactory()

    with pytest.raises(ApplicationError) as caught:
        principal_update(principal=team, teams=[team])

    assert caught.value.code == "invalid_team"


def test_deleting_a_team_removes_its_policies_from_members() -> None:
    team = TeamFactory(policies=[PolicyFactory()])
    member = ServiceFactory(teams=[team])

    principal_delete(principal=team)

    assert list(member.teams.all()) == []


def test_login_principal_is_named_after_a_sanitized_username() -> None:
    principal = principal_ensure_for_user(user=UserFactory(username="bob+ops"))

    assert principal.name == "bob-ops"


def test_login_principal_avoids_a_name_held_by_another_principal() -> None:
    ServiceFactory(name="carol")
    user = UserFactory(username="carol")

    principal = principal_ensure_for_user(user=user)

    assert principal.name == f"carol-{user.pk}"
    assert Principal.objects.filter(user=user).count() == 1

"""Narrow RBAC write rights never add up to admin: keys are issued per principal, policies change hands only
through `grant` on them and within the grantor's own rights, and nobody deletes itself (issue 9)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from apps.core.errors import ApplicationError
from apps.rbac.authorization import authorize
from apps.rbac.models import ApiKey, Policy, Principal
from apps.rbac.services import policy_attach, policy_detach
from tests.apps.rbac.conftest import Builtin, ClientFor
from tests.apps.rbac.factories import PolicyFactory, PrincipalFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PRINCIPALS = "/api/v1/rbac/principals/"
POLICIES = "/api/v1/rbac/policies/"
KEYS = "/api/v1/rbac/api-keys/"


def narrow(name: str, *rules: tuple[str, list[str]], deny: tuple[tuple[str, list[str]], ...] = ()) -> Principal:
    """A service principal holding exactly these rules (plus `read` on itself, as the API needs)."""
    policy = PolicyFactory(name=f"{name}-rights",
                           rules=[{"path": path, "actions": actions} for path, actions in rules],
                           deny=[{"path": path, "actions": actions} for path, actions in deny])
    return ServiceFactory(name=name, policies=[policy])


def refused(response: object, code: str) -> bool:
    return response.status_code == 403 and response.json()["error"]["code"] == code  # type: ignore[attr-defined]


# --- API keys -----------------------------------------------------------------------------------------


def test_create_on_api_keys_cannot_mint_a_key_for_admin(client_for: ClientFor, admin_principal: Principal) -> None:
    mallory = client_for(narrow("mallory", ("rbac/api-keys*", ["create"])))

    response = mallory.post(KEYS, {"principal": admin_principal.name}, format="json")

    assert refused(response, "permission_denied"), response.json()
    assert "impersonate on rbac/principals/svc-admin" in response.json()["error"]["message"]
    assert not ApiKey.objects.filter(principal=admin_principal).exists()


def test_create_on_api_keys_still_mints_the_callers_own_keys(client_for: ClientFor) -> None:
    mallory = narrow("mallory", ("rbac/api-keys*", ["create"]))

    response = client_for(mallory).post(KEYS, {"principal": "mallory", "name": "second"}, format="json")

    assert response.status_code == 201, response.json()


def test_impersonate_on_a_principal_allows_keys_for_it(client_for: ClientFor) -> None:
    ServiceFactory(name="ci")
    ServiceFactory(name="other")
    issuer = client_for(narrow("issuer", ("rbac/api-keys*", ["create"]), ("rbac/principals/ci", ["impersonate"])))

    assert issuer.post(KEYS, {"principal": "ci"}, format="json").status_code == 201
    assert refused(issuer.post(KEYS, {"principal": "other"}, format="json"), "permission_denied")


# --- attaching policies -------------------------------------------------------------------------------


def test_update_on_oneself_cannot_attach_admin(client_for: ClientFor) -> None:
    mallory = narrow("mallory", ("rbac/principals/mallory", ["read", "update"]))

    response = client_for(mallory).patch(f"{PRINCIPALS}mallory/", {"policies": ["mallory-rights", "admin"]},
                                         format="json")

    assert refused(response, "permission_denied"), response.json()
    assert "grant on rbac/policies/admin" in response.json()["error"]["message"]
    assert not authorize(Principal.objects.get(name="mallory"), "delete", "rbac/principals/svc-admin").allowed


def test_grant_on_a_policy_does_not_give_what_the_grantor_does_not_hold(client_for: ClientFor) -> None:
    mallory = narrow("mallory", ("rbac/principals/mallory", ["read", "update"]), ("rbac/policies/*", ["grant"]))

    response = client_for(mallory).patch(f"{PRINCIPALS}mallory/", {"policies": ["mallory-rights", "admin"]},
                                         format="json")

    assert refused(response, "grant_exceeds_rights"), response.json()
    assert "Policy admin: allow * [" in response.json()["error"]["message"]
    assert list(Principal.objects.get(name="mallory").policies.values_list("name", flat=True)) == ["mallory-rights"]


def test_joining_a_team_is_being_given_its_policies(client_for: ClientFor, builtin: Builtin) -> None:
    TeamFactory(name="admins", policies=[builtin("admin")])
    mallory = narrow("mallory", ("rbac/principals/mallory", ["read", "update"]))

    response = client_for(mallory).patch(f"{PRINCIPALS}mallory/", {"teams": ["admins"]}, format="json")

    assert refused(response, "permission_denied"), response.json()
    assert not Principal.objects.get(name="mallory").teams.exists()


def test_creating_a_principal_with_admin_attached_needs_the_grant(client_for: ClientFor) -> None:
    mallory = narrow("mallory", ("rbac/principals/*", ["create"]), ("rbac/api-keys*", ["create"]))

    response = client_for(mallory).post(PRINCIPALS, {"name": "sock", "kind": "service", "policies": ["admin"]},
                                        format="json")

    assert refused(response, "permission_denied"), response.json()
    assert not Principal.objects.filter(name="sock").exists()


def test_a_delegated_manager_grants_what_it_holds(client_for: ClientFor) -> None:
    PolicyFactory(name="ci-run", rules=[{"path": "runners/lex-http/*", "actions": ["execute"]}])
    ServiceFactory(name="ci")
    manager = narrow("manager", ("rbac/principals/ci", ["read", "update"]), ("rbac/policies/ci-*", ["grant"]),
                     ("runners*", ["execute", "read"]))

    response = client_for(manager).patch(f"{PRINCIPALS}ci/", {"policies": ["ci-run"]}, format="json")

    assert response.status_code == 200, response.json()
    assert authorize(Principal.objects.get(name="ci"), "execute", "runners/lex-http/request/get").allowed


def test_detaching_a_deny_lifts_what_the_grantor_must_hold(builtin: Builtin) -> None:
    # observer's deny rules keep its holder from API keys even beside admin: lifting them gives those keys.
    target = ServiceFactory(name="held", policies=[builtin("admin"), builtin("observer")])
    manager = narrow("manager", ("rbac/policies/observer", ["grant"]), ("*", ["read", "list"]))

    with pytest.raises(ApplicationError) as refusal:
        policy_detach(principal=target, policy=builtin("observer"), actor=manager)

    assert refusal.value.code == "grant_exceeds_rights" and "deny rbac/api-keys*" in refusal.value.message
    assert target.policies.filter(name="observer").exists()


def test_a_grantor_whose_deny_the_policy_repeats_may_grant_it(builtin: Builtin) -> None:
    grantor = narrow("grantor", ("rbac/policies/observer", ["grant"]), ("*", ["read", "list"]),
                     deny=(("rbac/api-keys*", ["read", "list"]), ("system/secrets*", ["*"])))
    target = ServiceFactory(name="reader")

    policy_attach(principal=target, policy=builtin("observer"), actor=grantor)

    assert target.policies.filter(name="observer").exists()


# --- editing policies ---------------------------------------------------------------------------------


def test_editing_a_policy_cannot_exceed_the_editors_rights(client_for: ClientFor) -> None:
    editor = narrow("editor", ("rbac/policies/editor-rights", ["read", "update"]))

    response = client_for(editor).patch(f"{POLICIES}editor-rights/", {"rules": [{"path": "*", "actions": ["*"]}]},
                                        format="json")

    assert refused(response, "grant_exceeds_rights"), response.json()
    assert Policy.objects.get(name="editor-rights").rules != [{"path": "*", "actions": ["*"]}]


def test_editing_a_policy_away_from_its_deny_needs_what_it_denied(client_for: ClientFor) -> None:
    PolicyFactory(name="fence", rules=[], deny=[{"path": "system/secrets*"}])
    editor = narrow("editor", ("rbac/policies/fence", ["read", "update"]))

    response = client_for(editor).patch(f"{POLICIES}fence/", {"deny": []}, format="json")

    assert refused(response, "grant_exceeds_rights"), response.json()


def test_deleting_a_policy_lifts_its_deny_rules_too(client_for: ClientFor) -> None:
    PolicyFactory(name="fence", rules=[], deny=[{"path": "system/secrets*"}])
    editor = narrow("editor", ("rbac/policies/fence", ["delete"]))

    assert refused(client_for(editor).delete(f"{POLICIES}fence/"), "grant_exceeds_rights")
    assert Policy.objects.filter(name="fence").exists()


# --- deleting oneself ---------------------------------------------------------------------------------


def test_a_principal_cannot_delete_itself(admin_api: APIClient, admin_principal: Principal) -> None:
    response = admin_api.delete(f"{PRINCIPALS}{admin_principal.name}/")

    assert response.status_code == 409 and response.json()["error"]["code"] == "cannot_delete_self"
    assert Principal.objects.filter(pk=admin_principal.pk).exists()


# --- the admin goes through the same services ---------------------------------------------------------


@pytest.fixture
def staff_client(client: Client) -> Client:
    """A staff login with Django's RBAC model permissions and RBAC `update` on its own principal only."""
    staff = UserFactory(username="mallory", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="rbac"))
    PrincipalFactory(name="mallory", user=staff, policies=[PolicyFactory(name="self-edit", rules=[
        {"path": "rbac/principals*", "actions": ["list", "read", "update", "delete"]}])])
    client.force_login(staff)
    return client


def test_the_admin_cannot_attach_admin_to_oneself(staff_client: Client, builtin: Builtin) -> None:
    mallory = Principal.objects.get(name="mallory")

    response = staff_client.post(f"/admin/rbac/principal/{mallory.pk}/change/", {
        "name": "mallory", "description": "", "is_active": "on", "policies": [p.pk for p in Policy.objects.filter(
            name__in=["self-edit", "admin"])],
        "api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0"})

    assert response.status_code == 403
    assert not mallory.policies.filter(name="admin").exists()


def test_the_admin_cannot_delete_oneself(staff_client: Client) -> None:
    mallory = Principal.objects.get(name="mallory")

    response = staff_client.post(f"/admin/rbac/principal/{mallory.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Principal.objects.filter(pk=mallory.pk).exists()


def test_describing_a_policy_is_not_judged_as_granting_it(client_for: ClientFor) -> None:
    PolicyFactory(name="wide", rules=[{"path": "*", "actions": ["*"]}])
    editor = narrow("editor", ("rbac/policies/wide", ["read", "update"]))

    response = client_for(editor).patch(f"{POLICIES}wide/", {"description": "everything"}, format="json")

    assert response.status_code == 200, response.json()


def test_an_administrator_still_adds_and_edits_through_the_admin(admin_client: Client, builtin: Builtin) -> None:
    TeamFactory(name="ops")
    added = admin_client.post("/admin/rbac/principal/add/", {
        "name": "deploy-bot", "kind": "service", "description": "", "is_active": "on",
        "policies": [builtin("operator").pk], "teams": [Principal.objects.get(name="ops").pk],
        "api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0"})
    policy = PolicyFactory(name="fence", rules=[], deny=[{"path": "system/secrets*"}])
    edited = admin_client.post(f"/admin/rbac/policy/{policy.pk}/change/", {
        "name": "fence", "description": "", "rules": '[{"path": "tasks*", "actions": ["read"]}]', "deny": "[]"})

    assert added.status_code == 302 and edited.status_code == 302
    bot = Principal.objects.get(name="deploy-bot")
    assert [p.name for p in bot.policies.all()] == ["operator"] and [t.name for t in bot.teams.all()] == ["ops"]
    assert Policy.objects.get(name="fence").deny == []

"""The Django admin for RBAC: every model administrable, keys shown once, revocation through the service,
built-ins read-only, and RBAC checked for the acting user."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.rbac.models import ApiKey, Policy
from apps.rbac.services import api_key_authenticate, api_key_create
from tests.apps.rbac.factories import ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["principal", "policy", "apikey"])
def test_every_model_has_a_changelist_and_an_add_form(admin_client: Client, model: str) -> None:
    assert admin_client.get(f"/admin/rbac/{model}/").status_code == 200
    assert admin_client.get(f"/admin/rbac/{model}/add/").status_code == 200


def test_adding_a_key_shows_the_raw_key_once(admin_client: Client) -> None:
    principal = ServiceFactory(name="adm-bot")

    response = admin_client.post("/admin/rbac/apikey/add/", {"principal": principal.pk, "name": "from admin"},
                                 follow=True)

    shown = [str(m) for m in response.context["messages"] if "lgn_" in str(m)]
    assert len(shown) == 1
    raw = next(word for word in shown[0].split() if word.startswith("lgn_"))
    assert api_key_authenticate(raw_key=raw) == principal
    assert raw not in admin_client.get(f"/admin/rbac/apikey/{ApiKey.objects.get().pk}/change/").content.decode()


def test_adding_a_key_for_a_team_is_a_form_error(admin_client: Client) -> None:
    team = TeamFactory()

    response = admin_client.post("/admin/rbac/apikey/add/", {"principal": team.pk})

    assert response.status_code == 200 and not ApiKey.objects.exists()


def test_revoke_action_revokes_through_the_service(admin_client: Client) -> None:
    api_key, _ = api_key_create(principal=ServiceFactory())

    admin_client.post("/admin/rbac/apikey/", {"action": "api_keys_revoke", "_selected_action": [api_key.pk]})

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_builtin_policies_cannot_be_changed_in_the_admin(admin_client: Client) -> None:
    observer = Policy.objects.get(name="observer")

    response = admin_client.post(f"/admin/rbac/policy/{observer.pk}/change/",
                                 {"name": "observer", "rules": "[]", "deny": "[]"})

    assert response.status_code == 403
    assert Policy.objects.get(name="observer").rules != []


def test_an_invalid_policy_is_a_form_error_naming_the_rule(admin_client: Client) -> None:
    response = admin_client.post("/admin/rbac/policy/add/", {
        "name": "bad", "description": "", "rules": '[{"path": "tasks/a+", "actions": ["read"]}]', "deny": "[]"})

    assert response.status_code == 200
    assert "rules.0.path" in response.content.decode()
    assert not Policy.objects.filter(name="bad").exists()


def test_staff_with_model_permissions_but_no_policy_are_refused(client: Client) -> None:
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="rbac"))
    api_key, _ = api_key_create(principal=ServiceFactory())
    client.force_login(staff)

    changelist = client.get("/admin/rbac/apikey/")
    client.post("/admin/rbac/apikey/", {"action": "api_keys_revoke", "_selected_action": [api_key.pk]})

    assert changelist.status_code == 403
    api_key.refresh_from_db()
    assert api_key.revoked_at is None

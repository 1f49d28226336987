"""/api/v1/rbac/principals/: CRUD by name, filtering, and errors with field paths."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.rbac.models import Principal
from tests.apps.rbac.conftest import ClientFor
from tests.apps.rbac.factories import PolicyFactory, PrincipalFactory, ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/rbac/principals/"


def test_create_a_service_principal_with_team_and_policy(admin_api: APIClient) -> None:
    TeamFactory(name="ops")
    PolicyFactory(name="readers")

    response = admin_api.post(URL, {"name": "deploy-bot", "kind": "service", "teams": ["ops"],
                                    "policies": ["readers", "operator"]}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["teams"] == ["ops"] and sorted(response.json()["policies"]) == ["operator", "readers"]
    assert Principal.objects.get(name="deploy-bot").kind == "service"


def test_read_update_and_delete_by_name(admin_api: APIClient) -> None:
    PrincipalFactory(name="alice@example.com")
    item = f"{URL}alice@example.com/"

    assert admin_api.get(item).json()["name"] == "alice@example.com"
    assert admin_api.patch(item, {"description": "on call", "is_active": False}, format="json").status_code == 200
    assert Principal.objects.get(name="alice@example.com").is_active is False
    assert admin_api.delete(item).status_code == 204
    assert not Principal.objects.filter(name="alice@example.com").exists()


def test_filter_by_kind_and_name(admin_api: APIClient) -> None:
    TeamFactory(name="ops")
    ServiceFactory(name="ops-bot")
    PrincipalFactory(name="erin")

    teams = admin_api.get(URL, {"kind": "team"}).json()["results"]
    named = admin_api.get(URL, {"name__icontains": "ops"}).json()["results"]

    assert [p["name"] for p in teams] == ["ops"]
    assert sorted(p["name"] for p in named) == ["ops", "ops-bot"]


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    ({"name": "a b"}, 400, "invalid_name", "name"),
    ({"name": "x", "kind": "robot"}, 400, "invalid_choice", "kind"),
    ({"name": "x", "policies": ["missing"]}, 400, "does_not_exist", "policies"),
    ({"name": "x", "teams": ["not-a-team"]}, 400, "invalid_team", "teams"),
    ({"name": "taken"}, 409, "name_taken", "name"),
])
def test_create_errors_name_code_and_field(admin_api: APIClient, body: dict, status: int, code: str,
                                           field: str) -> None:
    PrincipalFactory(name="taken")
    PrincipalFactory(name="not-a-team")

    response = admin_api.post(URL, body, format="json")

    assert response.status_code == status
    assert response.json() == {"error": {"code": code, "message": response.json()["error"]["message"],
                                         "field": field}}


def test_kind_is_fixed_after_creation(admin_api: APIClient) -> None:
    PrincipalFactory(name="fixed")

    response = admin_api.patch(f"{URL}fixed/", {"kind": "team"}, format="json")

    assert (response.status_code, response.json()["error"]["code"], response.json()["error"]["field"]) == (
        400, "immutable", "kind")


def test_create_is_authorized_on_the_new_principals_name(client_for: ClientFor) -> None:
    creator = ServiceFactory(policies=[PolicyFactory(rules=[{"path": "rbac/principals/ci-*", "actions": ["create"]}])])
    client = client_for(creator)

    allowed = client.post(URL, {"name": "ci-runner", "kind": "service"}, format="json")
    denied = client.post(URL, {"name": "root", "kind": "service"}, format="json")

    assert (allowed.status_code, denied.status_code) == (201, 403)
    assert "create on rbac/principals/root denied" in denied.json()["error"]["message"]


def test_unknown_principal_is_404(admin_api: APIClient) -> None:
    response = admin_api.get(f"{URL}ghost/")

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")

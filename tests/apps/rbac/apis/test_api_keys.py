"""/api/v1/rbac/api-keys/: the raw key appears in the create response only; revoke; listing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.rbac.models import ApiKey
from tests.apps.rbac.conftest import Builtin, ClientFor, IssueKey
from tests.apps.rbac.factories import PolicyFactory, ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/rbac/api-keys/"


def test_create_returns_the_key_once(admin_api: APIClient) -> None:
    ServiceFactory(name="ci")

    created = admin_api.post(URL, {"principal": "ci", "name": "pipeline"}, format="json")
    prefix = created.json()["prefix"]
    shown_later = admin_api.get(f"{URL}{prefix}/").json()

    assert created.status_code == 201
    assert created.json()["key"].startswith(f"lgn_{prefix}_")
    assert "key" not in shown_later and shown_later["principal"] == "ci" and shown_later["is_usable"] is True


def test_the_created_key_works(admin_api: APIClient, builtin: Builtin) -> None:
    ServiceFactory(name="reader", policies=[builtin("observer")])
    raw = admin_api.post(URL, {"principal": "reader"}, format="json").json()["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get("/api/v1/rbac/principals/").status_code == 200
    assert client.get(URL).status_code == 403  # observer: no API-key material


def test_revoke_stops_the_key(admin_api: APIClient, issue_key: IssueKey) -> None:
    raw = issue_key(ServiceFactory(name="svc"))
    prefix = raw.split("_")[1]

    revoked = admin_api.post(f"{URL}{prefix}/revoke/")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get(URL).json()["error"]["code"] == "api_key_revoked"


def test_revoking_is_delete_on_the_key(client_for: ClientFor, issue_key: IssueKey) -> None:
    raw = issue_key(ServiceFactory())
    prefix = raw.split("_")[1]

    lister = ServiceFactory(policies=[PolicyFactory(rules=[{"path": "rbac/api-keys*", "actions": ["read", "list"]}])])
    response = client_for(lister).post(f"{URL}{prefix}/revoke/")

    assert response.status_code == 403
    assert f"delete on rbac/api-keys/{prefix} denied" in response.json()["error"]["message"]
    assert ApiKey.objects.get(prefix=prefix).revoked_at is None


def test_list_filters_by_principal_and_usability(admin_api: APIClient, issue_key: IssueKey) -> None:
    issue_key(ServiceFactory(name="one"))
    raw = issue_key(ServiceFactory(name="two"))
    admin_api.post(f"{URL}{raw.split('_')[1]}/revoke/")

    mine = admin_api.get(URL, {"principal": "one"}).json()["results"]
    unusable = admin_api.get(URL, {"usable": "false"}).json()["results"]

    assert [k["principal"] for k in mine] == ["one"]
    assert [k["principal"] for k in unusable] == ["two"]


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"principal": "ghost"}, "does_not_exist", "principal"),
    ({"principal": "team-a"}, "invalid_principal", "principal"),
    ({"principal": "svc", "expires_at": "2000-01-01T00:00:00Z"}, "invalid_expiry", "expires_at"),
])
def test_create_errors(admin_api: APIClient, body: dict, code: str, field: str) -> None:
    TeamFactory(name="team-a")
    ServiceFactory(name="svc")

    response = admin_api.post(URL, body, format="json")

    assert (response.status_code, response.json()["error"]["code"], response.json()["error"]["field"]) == (
        400, code, field)

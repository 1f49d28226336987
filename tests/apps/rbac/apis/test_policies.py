"""/api/v1/rbac/policies/: validated writes with field paths; built-ins are read-only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.rbac.models import Policy
from tests.apps.rbac.conftest import Builtin, ClientFor
from tests.apps.rbac.factories import PolicyFactory, ServiceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/rbac/policies/"


def test_create_and_read_a_policy(admin_api: APIClient) -> None:
    body = {"name": "chains-run", "description": "run chains", "rules": [{"path": "chains/*", "actions": ["execute"]}],
            "deny": [{"path": "chains/prod-*"}]}

    created = admin_api.post(URL, body, format="json")

    assert created.status_code == 201, created.json()
    assert admin_api.get(f"{URL}chains-run/").json() | {"created_at": None, "updated_at": None} == {
        **body, "builtin": False, "created_at": None, "updated_at": None}


@pytest.mark.parametrize(("rules", "deny", "code", "field"), [
    ([{"path": "tasks/a+", "actions": ["read"]}], [], "invalid_path", "rules.0.path"),
    ([{"path": "tasks/*", "actions": ["read", "zap"]}], [], "invalid_action", "rules.0.actions.1"),
    ([{"path": "tasks/*"}], [], "invalid_rule", "rules.0.actions"),
    ([], [{"path": "/x"}], "invalid_path", "deny.0.path"),
    ("tasks/*", [], "invalid_rule", "rules"),
])
def test_invalid_policies_are_rejected_with_the_field_path(admin_api: APIClient, rules: object, deny: object,
                                                            code: str, field: str) -> None:
    response = admin_api.post(URL, {"name": "bad", "rules": rules, "deny": deny}, format="json")

    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (code, field)
    assert not Policy.objects.filter(name="bad").exists()


def test_patch_validates_against_the_stored_document(admin_api: APIClient) -> None:
    PolicyFactory(name="p1")

    response = admin_api.patch(f"{URL}p1/", {"deny": [{"path": "tasks/*", "actions": ["nuke"]}]}, format="json")

    assert (response.status_code, response.json()["error"]["field"]) == (400, "deny.0.actions.0")


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_builtins_are_read_only(admin_api: APIClient, method: str) -> None:
    body = {"name": "observer", "rules": [{"path": "*", "actions": ["*"]}]}

    response = getattr(admin_api, method)(f"{URL}observer/", body, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "builtin_policy_readonly")
    assert Policy.objects.get(name="observer").rules == [{"path": "*", "actions": ["read", "list"]}]


def test_filter_builtins(admin_api: APIClient) -> None:
    PolicyFactory(name="mine")

    names = [p["name"] for p in admin_api.get(URL, {"builtin": "true"}).json()["results"]]

    assert names == ["admin", "anonymous", "observer", "operator", "worker"]


def test_operator_reads_policies_but_cannot_write_them(client_for: ClientFor, builtin: Builtin) -> None:
    client = client_for(ServiceFactory(policies=[builtin("operator")]))

    assert client.get(URL).status_code == 200
    assert client.post(URL, {"name": "x", "rules": []}, format="json").status_code == 403

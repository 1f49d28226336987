"""/api/v1/rbac/check/: the decision and the rule behind it; asking needs `read` on the principal."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.apps.rbac.conftest import Builtin, ClientFor
from tests.apps.rbac.factories import PolicyFactory, ServiceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/rbac/check/"


def test_check_explains_an_allow(admin_api: APIClient, builtin: Builtin) -> None:
    ServiceFactory(name="runner-1", policies=[builtin("worker")])

    response = admin_api.post(URL, {"principal": "runner-1", "action": "execute",
                                    "resource": "runners/lex-http/request/get"}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "decision": "allow", "allowed": True, "reason": "allowed by rule", "policy": "worker",
        "rule": {"kind": "allow", "path": "runners*", "actions": ["execute", "read", "list"]},
        "principal": "runner-1", "action": "execute", "resource": "runners/lex-http/request/get",
    }


def test_check_explains_a_deny_without_a_rule(admin_api: APIClient) -> None:
    ServiceFactory(name="bare")

    body = admin_api.post(URL, {"principal": "bare", "action": "read", "resource": "tasks/1"}, format="json").json()

    assert (body["decision"], body["reason"], body["rule"], body["policy"]) == (
        "deny", "no policies attached", None, None)


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"principal": "p", "action": "destroy", "resource": "tasks/1"}, "invalid_choice", "action"),
    ({"principal": "p", "action": "read", "resource": "tasks//1"}, "invalid_resource", "resource"),
    ({"principal": "ghost", "action": "read", "resource": "tasks/1"}, "does_not_exist", "principal"),
])
def test_check_rejects_bad_questions(admin_api: APIClient, body: dict, code: str, field: str) -> None:
    ServiceFactory(name="p")

    response = admin_api.post(URL, body, format="json")

    assert (response.status_code, response.json()["error"]["code"], response.json()["error"]["field"]) == (
        400, code, field)


def test_asking_needs_read_on_the_principal(client_for: ClientFor) -> None:
    ServiceFactory(name="team-bot")
    ServiceFactory(name="other-bot")
    asker = ServiceFactory(policies=[PolicyFactory(rules=[{"path": "rbac/principals/team-*", "actions": ["read"]}])])
    client = client_for(asker)
    question = {"action": "read", "resource": "tasks/1"}

    assert client.post(URL, {"principal": "team-bot", **question}, format="json").status_code == 200
    assert client.post(URL, {"principal": "other-bot", **question}, format="json").status_code == 403

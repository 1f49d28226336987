"""/api/v1/rbac/me/: the caller and its effective policies, for any authenticated principal."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.apps.rbac.conftest import ClientFor
from tests.apps.rbac.factories import PolicyFactory, ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/rbac/me/"


def test_me_lists_own_and_team_policies_with_their_source(client_for: ClientFor) -> None:
    shared = PolicyFactory(name="shared")
    team = TeamFactory(name="ops", policies=[shared, PolicyFactory(name="team-only")])
    me = ServiceFactory(name="me-bot", teams=[team], policies=[shared])

    body = client_for(me).get(URL).json()

    assert body["principal"]["name"] == "me-bot"
    assert [(p["name"], p["via"]) for p in body["policies"]] == [
        ("shared", ["direct", "team:ops"]), ("team-only", ["team:ops"])]


def test_me_needs_no_policy_but_needs_authentication(client_for: ClientFor, api_client: APIClient) -> None:
    assert client_for(ServiceFactory()).get(URL).status_code == 200
    assert api_client.get(URL).status_code == 401


def test_a_superusers_session_shows_admin_via_superuser(admin_client: Client) -> None:
    body = admin_client.get(URL).json()

    assert [(p["name"], p["via"]) for p in body["policies"]] == [("admin", ["superuser"])]

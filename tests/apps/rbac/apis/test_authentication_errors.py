"""Who gets 401 and who gets 403 on the RBAC API, always in the one error envelope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.rbac.models import ApiKey, Principal
from apps.rbac.services import api_key_create, api_key_revoke
from tests.apps.rbac.conftest import ClientFor
from tests.apps.rbac.factories import ServiceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/rbac/principals/"


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_envelope(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) <= {"code", "message", "field"} and body["error"]["message"]
    assert body["error"]["code"] == code


def test_no_credentials_is_401_with_a_bearer_challenge(api_client: APIClient) -> None:
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert_envelope(response.json(), "not_authenticated")


def test_a_bearer_token_that_is_not_a_legion_key_is_not_authenticated() -> None:
    response = bearer("eyJhbGciOiJIUzI1NiJ9.e30.x").get(URL)

    assert response.status_code == 401
    assert_envelope(response.json(), "not_authenticated")


@pytest.mark.parametrize(("state", "code"), [
    ("wrong", "invalid_api_key"),
    ("unknown", "invalid_api_key"),
    ("expired", "api_key_expired"),
    ("revoked", "api_key_revoked"),
    ("inactive", "principal_inactive"),
])
def test_bad_keys_are_401_with_their_code(state: str, code: str, admin_principal: Principal) -> None:
    api_key, raw = api_key_create(principal=admin_principal)
    if state == "wrong":
        raw = raw[:-2] + ("aa" if not raw.endswith("aa") else "bb")
    elif state == "unknown":
        raw = "lgn_00000000_" + "a" * 43
    elif state == "expired":
        ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "revoked":
        api_key_revoke(api_key=api_key)
    else:
        Principal.objects.filter(pk=admin_principal.pk).update(is_active=False)

    response = bearer(raw).get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert_envelope(response.json(), code)


def test_a_key_without_permission_is_403_naming_action_resource_and_reason(
        client_for: ClientFor, nobody: Principal) -> None:
    response = client_for(nobody).get(URL)

    assert response.status_code == 403
    assert_envelope(response.json(), "permission_denied")
    message = response.json()["error"]["message"]
    assert "list" in message and "rbac/principals" in message and "no matching rule" in message


def test_a_principal_without_policies_is_403(client_for: ClientFor) -> None:
    response = client_for(ServiceFactory()).get(reverse("rbac-policy-list"))

    assert response.status_code == 403
    assert "no policies attached" in response.json()["error"]["message"]


def test_an_allowed_key_is_200(admin_api: APIClient) -> None:
    assert admin_api.get(URL).status_code == 200


def test_session_login_acts_as_the_users_principal(client: Client, django_user_model: type[User]) -> None:
    user = django_user_model.objects.create_user(username="dana", password="pw-dana-123")
    client.force_login(user)

    denied = client.get(URL)
    user.is_superuser = True
    user.save()
    allowed = client.get(URL)

    assert (denied.status_code, allowed.status_code) == (403, 200)
    assert Principal.objects.get(user=user).name == "dana"

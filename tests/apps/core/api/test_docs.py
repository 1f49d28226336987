"""The OpenAPI schema and its pages answer authenticated callers only; people without a session go to the login."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.rbac.models import Policy
from apps.rbac.services import api_key_create, principal_create


@pytest.mark.django_db
def test_the_schema_refuses_anonymous_callers(client: Client) -> None:
    response = client.get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_the_schema_answers_any_api_key(db: Any) -> None:
    principal = principal_create(name="docs-reader", kind="service", policies=[Policy.objects.get(name="worker")])
    _, key = api_key_create(principal=principal)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = api.get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200 and response.json()["openapi"].startswith("3.")


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_docs_pages_send_people_without_a_session_to_the_login_and_back(client: Client, page: str) -> None:
    response = client.get(page)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={page.replace('/', '%2F')}"


@pytest.mark.django_db
def test_the_admin_session_opens_the_docs_and_the_schema(admin_client: Client) -> None:
    assert admin_client.get("/api/v1/docs/").status_code == 200
    assert admin_client.get("/api/v1/redoc/").status_code == 200
    assert admin_client.get("/api/v1/schema/", {"format": "json"}).status_code == 200

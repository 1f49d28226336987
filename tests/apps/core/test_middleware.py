"""A NUL in the path or query string is refused before any view looks a row up by it (schemathesis found
these as 500s: PostgreSQL text cannot hold a NUL)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [
    "/api/v1/rbac/principals/a%00b/",
    "/api/v1/runners/functions/core.basic.log%00/invoke/",
    "/api/v1/proxy/providers/x%00/",
    "/api/v1/chains/runs/?function=a%00b",
    "/api/v1/chains/runs/?a%00b=1",
])
def test_a_nul_in_the_path_or_query_is_an_invalid_character(api_client: APIClient, url: str) -> None:
    response = api_client.get(url)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_character")


def test_requests_without_a_nul_reach_the_view(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/rbac/principals/a%20b/?name=x")
    assert response.json()["error"]["code"] != "invalid_character"

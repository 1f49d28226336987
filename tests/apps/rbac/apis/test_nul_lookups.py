"""Principals, policies and users named in RBAC bodies are looked up safely: a NUL is a 400 naming the field
(schemathesis found `POST /rbac/principals/` with a NUL in `teams` as a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.rbac.models import Principal


@pytest.mark.parametrize(("url", "body", "field"), [
    ("/api/v1/rbac/principals/", {"name": "p", "kind": "user", "teams": ["t\x00"]}, "teams"),
    ("/api/v1/rbac/principals/", {"name": "p", "kind": "user", "policies": ["admin\x00"]}, "policies"),
    ("/api/v1/rbac/principals/", {"name": "p", "kind": "user", "user": "u\x00"}, "user"),
    ("/api/v1/rbac/api-keys/", {"principal": "svc\x00"}, "principal"),
    ("/api/v1/rbac/check/", {"principal": "svc\x00", "action": "read", "resource": "tasks/1"}, "principal"),
])
def test_a_nul_in_a_name_looked_up_is_a_field_error(admin_api: APIClient, admin_principal: Principal, url: str,
                                                    body: dict[str, Any], field: str) -> None:
    response = admin_api.post(url, body, format="json")
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["field"].split(".")[0]) == (
        400, "null_characters_not_allowed", field)

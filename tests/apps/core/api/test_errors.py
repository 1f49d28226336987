"""Every API error leaves as `{error: {code, message, field?}}` with a stable code and no traceback."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.urls("tests.apps.core.api.urls")


def test_application_error_keeps_its_code_field_and_status(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/fail/application/")
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "quota_exceeded", "message": "Budget exhausted for team ops",
                                         "field": "team"}}


def test_nested_validation_error_names_the_dotted_field(api_client: APIClient) -> None:
    body = {"name": "ok", "rules": [{"path": "a/*", "actions": ["read"]}, {"path": "b", "actions": ["fly"]}]}
    response = api_client.post("/api/v1/fail/x/", body, format="json")
    error = response.json()["error"]
    assert response.status_code == 400
    assert error["code"] == "invalid_choice"
    assert error["field"] == "rules.1.actions.0"


def test_missing_required_field_is_named(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/fail/x/", {"rules": []}, format="json")
    assert response.json()["error"] == {"code": "required", "message": "This field is required.", "field": "name"}


def test_malformed_json_is_a_parse_error(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/fail/x/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_django_validation_error_becomes_the_envelope(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/fail/django-validation/")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "cron"


def test_http404_hides_its_internal_message(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/fail/missing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "secret internals" not in response.content.decode()


def test_unhandled_exception_is_a_500_envelope_without_traceback(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/fail/crash/")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "Internal error; it has been logged."}}
    assert "hunter2" not in response.content.decode()


def test_wrong_method_is_method_not_allowed(api_client: APIClient) -> None:
    response = api_client.delete("/api/v1/fail/application/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_unknown_api_path_is_a_json_404(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

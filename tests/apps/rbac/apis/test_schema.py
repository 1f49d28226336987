"""The OpenAPI schema of the RBAC API generates without warnings (other apps' views are not ours to judge)."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator


def test_rbac_schema_generates_without_warnings() -> None:
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        generator = SchemaGenerator(patterns=[path("api/v1/rbac/", include("apps.rbac.urls"))])
        schema = generator.get_schema(request=None, public=True)

    assert not GENERATOR_STATS, "drf-spectacular warned while generating the RBAC schema"
    assert {"/api/v1/rbac/principals/", "/api/v1/rbac/policies/", "/api/v1/rbac/api-keys/",
            "/api/v1/rbac/check/", "/api/v1/rbac/me/"} <= set(schema["paths"])
    assert {"apiKeyAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])

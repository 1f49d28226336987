"""The OpenAPI schema of the actors, schedules and webhooks endpoints generates without warnings."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator


def test_trigger_endpoints_are_described_without_warnings() -> None:
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        patterns = [path("api/v1/chains/", include(f"apps.{package}.urls"))
                    for package in ("actors", "schedules", "webhooks")]
        schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    assert not GENERATOR_STATS, "drf-spectacular warned while generating the schema"
    assert {"/api/v1/chains/actors/{id}/invoke/", "/api/v1/chains/schedules/{id}/fires/",
            "/api/v1/chains/hooks/{name}/"} <= set(schema["paths"])
    # The inbound endpoint is authenticated by its signature alone; the others by API key or session.
    assert schema["paths"]["/api/v1/chains/hooks/{name}/"]["post"].get("security", [{}]) == [{}]
    assert {"apiKeyAuth": []} in schema["paths"]["/api/v1/chains/webhooks/"]["post"]["security"]

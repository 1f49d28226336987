"""Webhooks and schedules name their function, chain and `run_as` by name: a NUL there must be a 400 naming the
field. Schemathesis found these as 500s (PostgreSQL text cannot hold a NUL); `TargetSerializer` names them with
`apps.core.api.fields.SlugLookupField`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apps.jobs import api_for, principal_with

pytestmark = pytest.mark.usefixtures("registry")


@pytest.mark.parametrize(("url", "body", "field"), [
    ("/api/v1/chains/webhooks/", {"name": "w", "function": "core.basic.log\x00"}, "function"),
    ("/api/v1/chains/webhooks/", {"name": "w", "function": "core.basic.log", "run_as": "root\x00"}, "run_as"),
    ("/api/v1/chains/webhooks/", {"name": "w", "chain": "c\x00"}, "chain"),
    ("/api/v1/chains/schedules/", {"name": "s", "interval_seconds": 60, "function": "core.basic.log\x00"},
     "function"),
])
def test_a_nul_in_a_target_name_is_a_field_error(url: str, body: dict[str, Any], field: str) -> None:
    api = api_for(principal_with("root", "admin"))
    response = api.post(url, body, format="json")
    error = response.json()["error"]
    assert (response.status_code, error["code"], error.get("field")) == (400, "null_characters_not_allowed", field)

"""/healthz and /readyz against the real services of the test settings."""

import pytest
from django.test import Client


def test_healthz_answers_without_touching_dependencies(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_every_full_mode_dependency(client: Client) -> None:
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "broker", "cache", "spool", "pgvector", "channel layer"}
    assert all(check["ok"] for check in body["checks"].values())

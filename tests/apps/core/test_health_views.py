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
    assert set(body["checks"]) == {"database", "broker", "cache", "spool", "pgvector", "channel layer",
                                   "providers", "local model"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_warns_of_no_provider_and_no_local_tier_but_stays_ready(client: Client) -> None:
    # The suite's settings declare no provider, and full mode leaves the local model off.
    body = client.get("/readyz").json()
    providers, local = body["checks"]["providers"], body["checks"]["local model"]
    assert body["status"] == "ready"
    assert providers["ok"] and providers["warning"] and providers["detail"].startswith("none declared")
    assert local["ok"] and not local["warning"] and local["detail"].startswith("off")

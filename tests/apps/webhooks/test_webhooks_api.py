"""Configuring webhooks through the API: the secret is shown once and stored only encrypted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.core.crypto import CryptoError, decrypt
from apps.webhooks.models import Webhook
from apps.webhooks.services import webhook_secret
from tests.apps.jobs import api_for

pytestmark = pytest.mark.django_db


def test_creating_a_webhook_returns_its_secret_once(admin_api: Any, operator: Any) -> None:
    response = admin_api.post("/api/v1/chains/webhooks/", {"name": "deploys", "function": "core.basic.log",
                                                           "run_as": "ops"}, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    secret = created["secret"]
    assert len(secret) >= 32 and created["endpoint"] == "/api/v1/chains/hooks/deploys/"
    assert created["secret_key_id"] == "test-1"

    shown = admin_api.get(f"/api/v1/chains/webhooks/{created['id']}/").json()
    assert "secret" not in shown
    listed = admin_api.get("/api/v1/chains/webhooks/").json()
    assert secret not in str(listed)

    webhook = Webhook.objects.get()
    assert secret not in webhook.secret_encrypted and webhook.secret_encrypted.startswith("v1:test-1:")
    assert webhook_secret(webhook=webhook) == secret
    with pytest.raises(CryptoError):  # bound to its row: copied elsewhere it does not decrypt
        decrypt(webhook.secret_encrypted, context=b"chains.webhook:999")


def test_rotating_returns_the_new_secret(admin_api: Any, make_webhook: Callable[..., Any]) -> None:
    webhook, old = make_webhook()
    response = admin_api.post(f"/api/v1/chains/webhooks/{webhook.pk}/rotate-secret/", {}, format="json")
    assert response.status_code == 200
    webhook.refresh_from_db()
    assert webhook_secret(webhook=webhook) == response.json()["secret"] != old


def test_updating_checks_like_creating(admin_api: Any, make_webhook: Callable[..., Any]) -> None:
    webhook, _ = make_webhook()
    bad = admin_api.patch(f"/api/v1/chains/webhooks/{webhook.pk}/", {"transformation": "{'a': "}, format="json")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_transformation")
    unknown = admin_api.patch(f"/api/v1/chains/webhooks/{webhook.pk}/", {"transformation": "{'a': result.x}"},
                              format="json")
    assert unknown.json()["error"]["code"] == "invalid_transformation"
    ok = admin_api.patch(f"/api/v1/chains/webhooks/{webhook.pk}/", {"enabled": False}, format="json")
    assert ok.status_code == 200 and ok.json()["enabled"] is False
    both = admin_api.post("/api/v1/chains/webhooks/", {"name": "both", "function": "core.basic.log",
                                                       "chain": None, "secret": "short"}, format="json")
    assert (both.status_code, both.json()["error"]["field"]) == (400, "secret")


def test_webhooks_are_authorized_as_webhooks_resources(observer: Any, make_webhook: Callable[..., Any]) -> None:
    webhook, _ = make_webhook()
    api = api_for(observer)
    assert api.get("/api/v1/chains/webhooks/").status_code == 200
    refused = api.post(f"/api/v1/chains/webhooks/{webhook.pk}/rotate-secret/", {}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")


def test_the_admin_shows_a_generated_secret_once(client: Any, admin_user: Any, registry: None) -> None:
    from apps.runners.models import Function

    client.force_login(admin_user)
    form = {"name": "from-admin", "function": str(Function.objects.get(qualified_name="core.basic.log").pk),
            "enabled": "on"}
    created = client.post("/admin/webhooks/webhook/add/", form, follow=True)
    assert created.status_code == 200
    secret = webhook_secret(webhook=Webhook.objects.get(name="from-admin"))
    assert secret.encode() in created.content
    assert secret.encode() not in client.get("/admin/webhooks/webhook/").content

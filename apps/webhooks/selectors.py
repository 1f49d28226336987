"""Webhook reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.crypto import ciphertext_key_id
from apps.core.errors import ApplicationError
from apps.webhooks.models import Webhook


def webhook_list() -> QuerySet[Webhook]:
    return Webhook.objects.select_related("function", "chain", "run_as")


def webhook_get(*, webhook_id: int) -> Webhook:
    webhook = webhook_list().filter(pk=webhook_id).first()
    if webhook is None:
        raise ApplicationError("not_found", f"no webhook {webhook_id}", status=404)
    return webhook


def webhook_secret_key_id(*, webhook: Webhook) -> str | None:
    """The encryption key id the secret is sealed with (to find secrets still under a retiring key)."""
    return ciphertext_key_id(webhook.secret_encrypted) if webhook.secret_encrypted else None

"""Webhooks: a named inbound endpoint, what it starts, as whom, and its signing secret (encrypted at rest)."""

from __future__ import annotations

from django.db import models

from apps.chains.models import Target


class Webhook(Target):
    name = models.SlugField(max_length=100, unique=True, help_text="the endpoint is /api/v1/chains/hooks/<name>/")
    description = models.TextField(blank=True)
    transformation = models.TextField(
        blank=True, help_text="CEL over body, headers and query building the payload (empty: the body)"
    )
    # apps.core.crypto ciphertext (`v1:<key id>:...`), bound to this row's id: never the secret itself.
    secret_encrypted = models.TextField(editable=False)
    replay_window_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="accepted clock difference of a signed request (default: setting)"
    )
    enabled = models.BooleanField(default=True)
    received_count = models.PositiveBigIntegerField(default=0, editable=False)
    last_received_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "chains_webhook"  # the table it had inside the engine's app
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(function__isnull=True) ^ models.Q(chain__isnull=True),
                name="webhook_function_xor_chain",
            )
        ]

    def __str__(self) -> str:
        return self.name

"""Webhooks: a named inbound endpoint, what it starts, as whom, and its signing secret (encrypted at rest)."""

from __future__ import annotations

from django.db import models


class Webhook(models.Model):
    name = models.SlugField(max_length=100, unique=True, help_text="the endpoint is /api/v1/chains/hooks/<name>/")
    description = models.TextField(blank=True)
    function = models.ForeignKey("runners.Function", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", help_text="the function to run (or a chain)")
    chain = models.ForeignKey("chains.Chain", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="webhooks", help_text="the chain to start (or a function)")
    transformation = models.TextField(
        blank=True, help_text="CEL over body, headers and query building the payload (empty: the body)"
    )
    run_as = models.ForeignKey("rbac.Principal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="the principal the runs are authorized as")
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
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(function__isnull=True) ^ models.Q(chain__isnull=True),
                name="webhook_function_xor_chain",
            )
        ]

    def __str__(self) -> str:
        return self.name

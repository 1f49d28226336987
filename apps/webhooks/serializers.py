"""Wire shapes of webhooks; the secret is write-only and returned once, on create and on rotation."""

from __future__ import annotations

from rest_framework import serializers

from apps.chains.target_serializers import TargetSerializer
from apps.webhooks.models import Webhook
from apps.webhooks.selectors import webhook_secret_key_id


class WebhookSerializer(TargetSerializer):
    secret = serializers.CharField(write_only=True, required=False, min_length=16,
                                   help_text="your own signing secret; left out, one is generated")
    endpoint = serializers.SerializerMethodField()
    secret_key_id = serializers.SerializerMethodField()

    class Meta:
        model = Webhook
        fields = ["id", "name", "description", "function", "chain", "transformation", "run_as",
                  "replay_window_seconds", "enabled", "secret", "endpoint", "secret_key_id", "received_count",
                  "last_received_at", "created_at", "updated_at"]
        read_only_fields = ["id", "endpoint", "secret_key_id", "received_count", "last_received_at", "created_at",
                            "updated_at"]

    def get_endpoint(self, webhook: Webhook) -> str:
        return f"/api/v1/chains/hooks/{webhook.name}/"

    def get_secret_key_id(self, webhook: Webhook) -> str | None:
        return webhook_secret_key_id(webhook=webhook)


class RotateSerializer(serializers.Serializer):
    secret = serializers.CharField(required=False, min_length=16)

"""Wire shapes of actors, their runtime state, and the invoke/absorb requests."""

from __future__ import annotations

from rest_framework import serializers

from apps.actors.models import Actor, ActorKind, ActorState
from apps.chains.serializers import IDEMPOTENCY_KEY_MAX_LENGTH
from apps.chains.target_serializers import TargetSerializer


class ActorStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActorState
        fields = ["last_fired_at", "last_run", "fired_count", "skipped_count", "last_result", "last_result_at",
                  "last_error", "last_error_at", "error_count", "leader", "node", "heartbeat_at"]
        read_only_fields = fields


class ActorSerializer(TargetSerializer):
    kind = serializers.ChoiceField(choices=ActorKind.choices)
    extension = serializers.CharField(source="extension.name", read_only=True, default=None)
    state = ActorStateSerializer(read_only=True)

    class Meta:
        model = Actor
        fields = ["id", "name", "description", "kind", "function", "chain", "payload", "options", "run_as",
                  "enabled", "extension", "available", "customized", "state", "created_at", "updated_at"]
        read_only_fields = ["id", "extension", "available", "customized", "state", "created_at", "updated_at"]


class InvokeSerializer(serializers.Serializer):
    payload = serializers.DictField(default=dict)
    idempotency_key = serializers.CharField(required=False, max_length=IDEMPOTENCY_KEY_MAX_LENGTH)


class AbsorbSerializer(serializers.Serializer):
    input = serializers.CharField(max_length=10_000)
    idempotency_key = serializers.CharField(required=False, max_length=IDEMPOTENCY_KEY_MAX_LENGTH)

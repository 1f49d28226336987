"""Wire shapes of chains, relationships and task runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from apps.chains.models import Chain, Relationship, TaskRun, TransformationKind
from apps.core.errors import ApplicationError
from apps.rbac.authentication import request_principal
from apps.runners.models import Function
from apps.runners.selectors import function_content_readable, run_content_shown

IDEMPOTENCY_KEY_MAX_LENGTH = 200
IDEMPOTENCY_HEADER = "Idempotency-Key"


class TaskRunSerializer(serializers.ModelSerializer):
    """A run as its reader may see it: give the reader as context `principal` or `request` (no reader: masked)."""

    function = serializers.CharField(source="function.qualified_name", read_only=True)
    chain = serializers.CharField(source="chain.name", read_only=True, default=None)
    duration_seconds = serializers.FloatField(read_only=True)

    class Meta:
        model = TaskRun
        fields = [
            "id", "function", "chain", "chain_version", "relationship", "parent", "root", "idempotency_key",
            "status", "payload", "result", "error", "log", "attempts", "max_attempts", "deliveries",
            "lost_deliveries", "triggered_by", "principal", "not_before", "swept_at", "created_at", "started_at",
            "finished_at", "duration_seconds",
        ]
        read_only_fields = fields

    def to_representation(self, instance: TaskRun) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["payload"], data["result"] = run_content_shown(
            function=instance.function, payload=data["payload"], result=data["result"],
            readable=self._content_readable(instance.function))
        return data

    def _content_readable(self, function: Function) -> bool:
        # One decision per function for a whole page of runs; the context is shared by a list's items.
        decided: dict[int, bool] = self.context.setdefault("content_readable", {})
        if function.pk not in decided:
            request = self.context.get("request")
            principal = self.context.get("principal") or (request_principal(request) if request else None)
            decided[function.pk] = function_content_readable(function=function, principal=principal)
        return decided[function.pk]


class ChainSerializer(serializers.ModelSerializer):
    class Meta:
        model = Chain
        fields = ["id", "name", "description", "version", "enabled", "cloned_from", "created_at", "updated_at"]
        read_only_fields = ["id", "version", "cloned_from", "created_at", "updated_at"]


class RelationshipSerializer(serializers.ModelSerializer):
    chain = serializers.SlugRelatedField(slug_field="name", queryset=Chain.objects.all())
    trigger = serializers.SlugRelatedField(slug_field="qualified_name", queryset=Function.objects.all())
    action = serializers.SlugRelatedField(slug_field="qualified_name", queryset=Function.objects.all())
    transformation_kind = serializers.ChoiceField(choices=TransformationKind.choices, default=TransformationKind.CEL)

    class Meta:
        model = Relationship
        fields = [
            "id", "chain", "name", "trigger", "action", "condition", "transformation", "transformation_kind",
            "delay_seconds", "active", "allow_new_chains", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


def idempotency_key_of(request: Request, validated: Mapping[str, Any]) -> str | None:
    """The body's `idempotency_key` (its serializer bounds it), else the `Idempotency-Key` header, bounded alike."""
    key = validated.get("idempotency_key") or request.headers.get(IDEMPOTENCY_HEADER)
    if key and len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise ApplicationError("invalid", f"{IDEMPOTENCY_HEADER} is longer than {IDEMPOTENCY_KEY_MAX_LENGTH} "
                               "characters", field=IDEMPOTENCY_HEADER)
    return key or None


class TriggerSerializer(serializers.Serializer):
    payload = serializers.DictField(default=dict)
    idempotency_key = serializers.CharField(required=False, max_length=IDEMPOTENCY_KEY_MAX_LENGTH)


class InvokeSerializer(TriggerSerializer):
    """Invoking a function takes what triggering a chain does; its own name keeps its own name in the schema."""


class CloneSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)

"""/api/v1/rbac/policies/: flat allow/deny policies, validated on write; built-ins are read-only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from apps.rbac.apis.fields import NameField
from apps.rbac.models import Policy
from apps.rbac.permissions import RbacCollectionMixin, principal_required
from apps.rbac.services import policy_create, policy_delete, policy_update
from apps.rbac.validation import RULE_ACTIONS, policy_document_problems

_RULE_SCHEMA = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "description": "Glob: `*` any characters, `+` one whole segment; anchored."},
        "actions": {"type": "array", "items": {"type": "string", "enum": list(RULE_ACTIONS)}},
    },
    "required": ["path"],
}


@extend_schema_field({"type": "array", "items": _RULE_SCHEMA})
class RulesField(serializers.JSONField):
    """A list of `{path, actions}` rules; checked as a whole document in `PolicySerializer.validate`."""


class PolicySerializer(serializers.ModelSerializer):
    name = NameField()
    rules = RulesField(help_text="Allow rules; every rule needs actions.")
    deny = RulesField(required=False, help_text="Deny rules; a rule without actions denies all of them.")

    class Meta:
        model = Policy
        fields = ["name", "description", "builtin", "rules", "deny", "created_at", "updated_at"]
        read_only_fields = ["builtin", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current = self.instance
        problems = policy_document_problems(
            rules=attrs.get("rules", current.rules if current else []),
            deny=attrs.get("deny", current.deny if current else []),
        )
        if problems:
            raise serializers.ValidationError(
                {p.field: serializers.ErrorDetail(p.message, code=p.code) for p in problems})
        return attrs


class PolicyViewSet(RbacCollectionMixin, viewsets.ModelViewSet):
    """Policies; each is the resource `rbac/policies/<name>`. Writes to a built-in answer 409."""

    rbac_collection = "rbac/policies"
    queryset = Policy.objects.all()
    serializer_class = PolicySerializer
    filterset_fields = {"name": ["exact", "icontains"], "builtin": ["exact"]}
    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = policy_create(**serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert isinstance(serializer.instance, Policy)
        serializer.instance = policy_update(policy=serializer.instance, **serializer.validated_data,
                                           actor=principal_required(self.request))

    def perform_destroy(self, instance: Policy) -> None:
        policy_delete(policy=instance, actor=principal_required(self.request))

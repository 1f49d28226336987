"""/api/v1/rbac/check/: explain a decision — may <principal> do <action> on <resource>, and which rule says so."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.rbac.apis.fields import principal_field
from apps.rbac.authorization import authorize
from apps.rbac.globs import resource_join, resource_problem
from apps.rbac.models import Principal
from apps.rbac.validation import ACTIONS


class CheckSerializer(serializers.Serializer):
    principal = principal_field(help_text="Name of the principal to ask about.")
    action = serializers.ChoiceField(choices=ACTIONS)
    resource = serializers.CharField(max_length=512, help_text="A resource name such as `tasks/42`.")

    def validate_resource(self, value: str) -> str:
        problem = resource_problem(value)
        if problem:
            raise serializers.ValidationError(problem, code="invalid_resource")
        return value


class RuleSerializer(serializers.Serializer):
    # A plain string: an enum here would share its choices with `decision` and its name with
    # Principal.kind, which drf-spectacular reports as naming collisions.
    kind = serializers.CharField(help_text='"allow" or "deny".')
    path = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["allow", "deny"])
    allowed = serializers.BooleanField()
    reason = serializers.CharField()
    policy = serializers.CharField(allow_null=True, help_text="The policy holding the deciding rule.")
    rule = RuleSerializer(allow_null=True, help_text="The deciding rule; null when no rule decided.")
    principal = serializers.CharField()
    action = serializers.CharField()
    resource = serializers.CharField()


class CheckApi(GenericAPIView):
    """Asking about a principal is `read` on `rbac/principals/<name>`: the answer reveals no more than
    reading that principal and its policies would."""

    serializer_class = CheckSerializer
    rbac_action = "read"

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        data = request.data if isinstance(request.data, Mapping) else {}
        return resource_join("rbac/principals", data.get("principal"))

    @extend_schema(request=CheckSerializer, responses=DecisionSerializer, operation_id="rbac_check")
    def post(self, request: Request) -> Response:
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        principal: Principal = given.validated_data["principal"]
        action, resource = given.validated_data["action"], given.validated_data["resource"]
        decision = authorize(principal, action, resource)
        return Response(DecisionSerializer({
            "decision": "allow" if decision.allowed else "deny",
            "allowed": decision.allowed,
            "reason": decision.reason,
            "policy": decision.policy,
            "rule": decision.rule(),
            "principal": principal.name,
            "action": action,
            "resource": resource,
        }).data)

"""/api/v1/rbac/me/: who the caller is and the policies that govern it (any authenticated principal)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.rbac.apis.policies import RulesField
from apps.rbac.apis.principals import PrincipalSerializer
from apps.rbac.permissions import PrincipalAuthenticated, principal_required
from apps.rbac.selectors import EffectivePolicy, principal_policies_effective


class EffectivePolicySerializer(serializers.Serializer):
    name = serializers.CharField(source="policy.name")
    description = serializers.CharField(source="policy.description")
    builtin = serializers.BooleanField(source="policy.builtin")
    via = serializers.ListField(child=serializers.CharField(),
                                help_text='How it applies: "direct", "superuser" or "team:<name>".')
    rules = RulesField(source="policy.rules")
    deny = RulesField(source="policy.deny")


class MeSerializer(serializers.Serializer):
    principal = PrincipalSerializer()
    policies = EffectivePolicySerializer(many=True)


class MeApi(GenericAPIView):
    """Needs authentication only: every principal may see itself and what governs it."""

    permission_classes = [PrincipalAuthenticated]
    serializer_class = MeSerializer

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        principal = principal_required(request)
        policies: list[EffectivePolicy] = principal_policies_effective(principal=principal)
        return Response(MeSerializer({"principal": principal, "policies": policies}).data)

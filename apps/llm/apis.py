"""/api/v1/proxy/: provider instances (with their models), aliases, and the providers' live status.

Providers and aliases are the resources `proxy/providers/<name>` and `proxy/aliases/<name>`; the status is a
read of `proxy/providers`.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.llm.models import KINDS, Alias, Provider
from apps.llm.services import alias_delete, alias_save, provider_delete, provider_save
from apps.llm.status import provider_status_read
from apps.rbac.permissions import RbacCollectionMixin
from proxy.config import TIERS


class ModelSerializer(serializers.Serializer):
    id = serializers.CharField(source="model_id")
    upstream = serializers.CharField(required=False, allow_blank=True, default="")
    capabilities = serializers.ListField(child=serializers.CharField(), default=["streaming"])
    context_window = serializers.IntegerField(default=8192)
    max_output = serializers.IntegerField(default=4096)
    price_in = serializers.FloatField(default=0.0)
    price_out = serializers.FloatField(default=0.0)
    tier = serializers.ChoiceField(choices=TIERS, required=False, allow_blank=True, default="")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        values["id"] = values.pop("model_id")
        return values


class ProviderSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=KINDS)
    api_key = serializers.JSONField(required=False,
                                    help_text="A secret reference or a fallback chain of them; never the key.")
    models = ModelSerializer(many=True)

    class Meta:
        model = Provider
        fields = ["name", "kind", "base_url", "tier", "api_key", "headers", "concurrency", "models",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def create(self, validated_data: dict[str, Any]) -> Provider:
        return provider_save(**validated_data)

    def update(self, instance: Provider, validated_data: dict[str, Any]) -> Provider:
        current = {"name": instance.name, "kind": instance.kind, "base_url": instance.base_url,
                   "tier": instance.tier, "api_key": instance.api_key, "headers": instance.headers,
                   "concurrency": instance.concurrency, "models": [m.entry() for m in instance.models.all()]}
        return provider_save(instance=instance, **(current | validated_data))


class AliasSerializer(serializers.ModelSerializer):
    members = serializers.ListField(child=serializers.CharField(), allow_empty=False)

    class Meta:
        model = Alias
        fields = ["name", "members", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def create(self, validated_data: dict[str, Any]) -> Alias:
        return alias_save(**validated_data)

    def update(self, instance: Alias, validated_data: dict[str, Any]) -> Alias:
        return alias_save(instance=instance, **({"name": instance.name, "members": instance.members}
                                                 | validated_data))


class ProviderViewSet(RbacCollectionMixin, viewsets.ModelViewSet):
    """Provider instances declared in the admin or the API; names the settings file declares are refused."""

    rbac_collection = "proxy/providers"
    queryset = Provider.objects.prefetch_related("models")
    serializer_class = ProviderSerializer
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def perform_destroy(self, instance: Provider) -> None:
        provider_delete(provider=instance)


class AliasViewSet(RbacCollectionMixin, viewsets.ModelViewSet):
    rbac_collection = "proxy/aliases"
    queryset = Alias.objects.all()
    serializer_class = AliasSerializer
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def perform_destroy(self, instance: Alias) -> None:
        alias_delete(alias=instance)


class ProviderStatusApi(APIView):
    """Every provider instance (settings file and admin) with its circuit breaker and leases in use."""

    rbac_resource = "proxy/providers"

    def get(self, request: Request) -> Response:
        return Response({"providers": [status.as_dict() for status in provider_status_read()]})

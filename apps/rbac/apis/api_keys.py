"""/api/v1/rbac/api-keys/: list, create (the raw key is in that one response only) and revoke."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.rbac.apis.fields import principal_field
from apps.rbac.models import ApiKey
from apps.rbac.permissions import RbacCollectionMixin, principal_required
from apps.rbac.selectors import api_key_queryset
from apps.rbac.services import api_key_create, api_key_revoke


class ApiKeySerializer(serializers.ModelSerializer):
    principal: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="name", read_only=True)
    is_usable = serializers.BooleanField(read_only=True, help_text="Neither revoked nor expired.")

    class Meta:
        model = ApiKey
        fields = ["prefix", "name", "principal", "created_at", "expires_at", "revoked_at", "last_used_at",
                  "is_usable"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    principal = principal_field(help_text="Name of the principal the key acts as.")
    name = serializers.CharField(max_length=100, required=False, default="", help_text="What the key is for.")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself. Shown in this response only.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyFilter(django_filters.FilterSet):
    principal = django_filters.CharFilter(field_name="principal__name", help_text="Keys of this principal.")
    usable = django_filters.BooleanFilter(method="usable_filter", help_text="Neither revoked nor expired.")

    class Meta:
        model = ApiKey
        fields = ["principal", "usable"]

    def usable_filter(self, queryset: QuerySet[ApiKey], name: str, value: bool) -> QuerySet[ApiKey]:
        usable = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        return queryset.filter(usable) if value else queryset.exclude(usable)


class ApiKeyViewSet(RbacCollectionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """API keys; each is the resource `rbac/api-keys/<prefix>`. Creating one is `create` on
    `rbac/api-keys` (its prefix does not exist yet), plus `impersonate` on the principal it is for unless
    that is the caller (the service checks it); revoking is `delete` on the key."""

    rbac_collection = "rbac/api-keys"
    rbac_create_field = None
    queryset = api_key_queryset()
    serializer_class = ApiKeySerializer
    filterset_class = ApiKeyFilter
    lookup_field = "prefix"
    ordering_fields = ["created_at", "last_used_at", "expires_at"]
    ordering = ["-created_at"]

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request: Request) -> Response:
        given = ApiKeyCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        api_key, raw_key = api_key_create(**given.validated_data, actor=principal_required(request))
        # The only response that ever carries the raw key (shape: ApiKeyCreatedSerializer).
        return Response({**ApiKeySerializer(api_key).data, "key": raw_key}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiKeySerializer, operation_id="rbac_api_keys_revoke")
    @action(detail=True, methods=["post"], rbac_action="delete")
    def revoke(self, request: Request, prefix: str) -> Response:
        api_key = api_key_revoke(api_key=self.get_object())
        return Response(ApiKeySerializer(api_key).data)

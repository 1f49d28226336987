"""/api/v1/rbac/principals/: users, teams and service accounts, by name."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from rest_framework import serializers, viewsets

from apps.core.api.fields import SlugLookupField
from apps.rbac.apis.fields import NameField, policy_field, principal_field
from apps.rbac.models import Principal
from apps.rbac.permissions import RbacCollectionMixin, principal_required
from apps.rbac.selectors import principal_queryset
from apps.rbac.services import principal_create, principal_delete, principal_update

IMMUTABLE_FIELDS = ("kind", "user")


class PrincipalSerializer(serializers.ModelSerializer):
    name = NameField()
    user = SlugLookupField(
        slug_field=get_user_model().USERNAME_FIELD, queryset=get_user_model().objects.all(),
        required=False, allow_null=True, help_text="Username of the login this user principal stands for.",
    )
    teams = principal_field(many=True, required=False, help_text="Names of the teams it is a direct member of.")
    policies = policy_field(many=True, required=False, help_text="Names of the policies attached to it.")

    class Meta:
        model = Principal
        fields = ["name", "kind", "description", "is_active", "user", "teams", "policies", "created_at",
                  "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            for field in IMMUTABLE_FIELDS:
                if field in attrs and attrs[field] != getattr(self.instance, field):
                    raise serializers.ValidationError(
                        {field: serializers.ErrorDetail("fixed when the principal is created", code="immutable")})
        return attrs


class PrincipalFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(field_name="teams__name", help_text="Members of this team.")

    class Meta:
        model = Principal
        fields = {"kind": ["exact"], "name": ["exact", "icontains"], "is_active": ["exact"]}


class PrincipalViewSet(RbacCollectionMixin, viewsets.ModelViewSet):
    """Principals; each is the resource `rbac/principals/<name>`."""

    rbac_collection = "rbac/principals"
    queryset = principal_queryset()
    serializer_class = PrincipalSerializer
    filterset_class = PrincipalFilter
    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    ordering_fields = ["name", "kind", "created_at"]
    ordering = ["name"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = principal_create(**serializer.validated_data, actor=principal_required(self.request))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        changes = {k: v for k, v in serializer.validated_data.items() if k not in IMMUTABLE_FIELDS}
        assert isinstance(serializer.instance, Principal)
        serializer.instance = principal_update(principal=serializer.instance, **changes,
                                              actor=principal_required(self.request))

    def perform_destroy(self, instance: Principal) -> None:
        principal_delete(principal=instance, actor=principal_required(self.request))

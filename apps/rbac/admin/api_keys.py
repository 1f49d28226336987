"""Admin for API keys: issuing one shows the raw key once; revoking goes through the service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import ForeignKey, QuerySet
from django.http import HttpRequest

from apps.core.errors import ApplicationError
from apps.rbac.admin.access import (
    RbacAdminMixin,
    admin_actor,
    admin_authorize_or_403,
    admin_authorized,
    admin_refusals,
)
from apps.rbac.models import ApiKey, Principal, PrincipalKind
from apps.rbac.services import api_key_create, api_key_create_check, api_key_revoke

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups

_FIELDS = ["principal", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]


class ApiKeyAdminForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["principal", "name", "expires_at"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("principal") is not None:
            try:
                api_key_create_check(principal=cleaned["principal"], expires_at=cleaned.get("expires_at"))
            except ApplicationError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_collection = "rbac/api-keys"
    form = ApiKeyAdminForm
    list_display = ["prefix", "principal", "name", "created_at", "expires_at", "revoked_at", "last_used_at",
                    "usable"]
    list_filter = ["principal__kind", "revoked_at", "expires_at"]
    search_fields = ["prefix", "name", "principal__name"]
    list_select_related = ["principal"]
    actions = ["api_keys_revoke"]

    def rbac_name(self, obj: Any) -> str:
        return str(obj.prefix)

    def rbac_resource(self, obj: Any = None) -> str:
        # A key being added has no prefix yet: creating one is `create` on the collection, as in the API.
        return self.rbac_collection if obj is None or not obj.prefix else super().rbac_resource(obj)

    @admin.display(boolean=True, description="usable")
    def usable(self, obj: ApiKey) -> bool:
        return obj.is_usable

    def get_fields(self, request: HttpRequest, obj: Any = None) -> _FieldGroups:
        return tuple(_FIELDS if obj is not None else ApiKeyAdminForm.Meta.fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(_FIELDS if obj is not None else [])  # an issued key changes only by revocation

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "principal":
            kwargs["queryset"] = Principal.objects.exclude(kind=PrincipalKind.TEAM)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the row stays as the record of who held the key

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            return
        admin_authorize_or_403(request, "create", self.rbac_resource(obj))
        with admin_refusals():
            api_key, raw_key = api_key_create(principal=obj.principal, name=obj.name, expires_at=obj.expires_at,
                                              actor=admin_actor(request))
        obj.pk = api_key.pk
        obj.refresh_from_db()
        messages.warning(request, f"API key for {obj.principal.name}: {raw_key} — copy it now; "
                                  "it is stored only as a hash and will not be shown again.")

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def api_keys_revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = [api_key_revoke(api_key=key).prefix for key in queryset.filter(revoked_at__isnull=True)
                   if admin_authorized(request, "delete", self.rbac_resource(key), report=True)]
        if revoked:
            self.message_user(request, f"Revoked: {', '.join(revoked)}")

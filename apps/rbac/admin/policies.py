"""Admin for policies: rules edited as JSON and validated on save; built-in policies are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.rbac.admin.access import RbacAdminMixin
from apps.rbac.models import Policy


@admin.register(Policy)
class PolicyAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_collection = "rbac/policies"
    list_display = ["name", "builtin", "description", "updated_at"]
    list_filter = ["builtin"]
    search_fields = ["name", "description"]
    readonly_fields = ["builtin", "created_at", "updated_at"]
    fields = ["name", "description", "rules", "deny", "builtin", "created_at", "updated_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.builtin) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.builtin) and super().has_delete_permission(request, obj)

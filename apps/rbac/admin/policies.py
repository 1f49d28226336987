"""Admin for policies: rules edited as JSON and validated on save; built-in policies are read-only.

Saves and deletes go through the services, which check that the acting principal holds what an edit gives.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.rbac.admin.access import RbacAdminMixin, admin_actor, admin_authorize_or_403, admin_refusals
from apps.rbac.models import Policy
from apps.rbac.services import policy_create, policy_delete, policy_update


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

    def save_model(self, request: HttpRequest, obj: Policy, form: Any, change: bool) -> None:
        fields = {"name": obj.name, "description": obj.description, "rules": obj.rules, "deny": obj.deny}
        with admin_refusals():
            if change:
                # The form has already written the new rules onto `obj`; the edit is judged against the stored ones.
                saved = policy_update(policy=Policy.objects.get(pk=obj.pk), **fields, actor=admin_actor(request))
            else:
                admin_authorize_or_403(request, "create", self.rbac_resource(obj))
                saved = policy_create(**fields)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: Policy) -> None:
        with admin_refusals():
            policy_delete(policy=obj, actor=admin_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Policy]) -> None:
        for policy in queryset:
            self.delete_model(request, policy)

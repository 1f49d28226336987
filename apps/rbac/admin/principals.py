"""Admin for principals: memberships and policies side by side, their API keys listed read-only.

Saves and deletes go through the services, which check the policies and teams given as grants by the
acting principal and refuse a principal deleting itself.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.errors import ApplicationError
from apps.rbac.admin.access import (
    RbacAdminMixin,
    admin_actor,
    admin_authorize_or_403,
    admin_authorized,
    admin_refusals,
)
from apps.rbac.models import ApiKey, Principal
from apps.rbac.services import principal_create, principal_delete, principal_update, teams_check


class PrincipalAdminForm(forms.ModelForm):
    class Meta:
        model = Principal
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind", self.instance.kind)
        try:
            teams_check(kind=kind, teams=list(cleaned.get("teams") or []),
                        member=self.instance if self.instance.pk else None)
        except ApplicationError as exc:
            self.add_error("teams", exc.message)
        return cleaned


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "name", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("prefix", "name", "created_at", "expires_at", "revoked_at", "last_used_at")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are issued from the API key admin, which shows the secret once


@admin.register(Principal)
class PrincipalAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_collection = "rbac/principals"
    form = PrincipalAdminForm
    list_display = ["name", "kind", "user", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "description", "user__username"]
    filter_horizontal = ["teams", "policies"]
    raw_id_fields = ["user"]
    inlines = [ApiKeyInline]
    actions = ["principals_activate", "principals_deactivate"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Kind and login link are fixed at creation, as in the services.
        return ["created_at", "updated_at", *(["kind", "user"] if obj is not None else [])]

    def save_model(self, request: HttpRequest, obj: Principal, form: Any, change: bool) -> None:
        teams = list(form.cleaned_data.get("teams") or [])
        policies = list(form.cleaned_data.get("policies") or [])
        with admin_refusals():
            if change:
                # The form has already written the new values onto `obj`; the change is judged against the stored row.
                principal_update(principal=Principal.objects.get(pk=obj.pk), name=obj.name,
                                 description=obj.description, is_active=obj.is_active, teams=teams,
                                 policies=policies, actor=admin_actor(request))
            else:
                admin_authorize_or_403(request, "create", self.rbac_resource(obj))
                obj.pk = principal_create(name=obj.name, kind=obj.kind, user=obj.user, description=obj.description,
                                          is_active=obj.is_active, teams=teams, policies=policies,
                                          actor=admin_actor(request)).pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Not form.save_m2m(): teams and policies were set in save_model, where the service checks them.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Principal) -> None:
        with admin_refusals():
            principal_delete(principal=obj, actor=admin_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Principal]) -> None:
        for principal in queryset:
            self.delete_model(request, principal)

    @admin.action(description="Activate selected principals", permissions=["change"])
    def principals_activate(self, request: HttpRequest, queryset: QuerySet[Principal]) -> None:
        self._active_set(request, queryset, active=True)

    @admin.action(description="Deactivate selected principals", permissions=["change"])
    def principals_deactivate(self, request: HttpRequest, queryset: QuerySet[Principal]) -> None:
        self._active_set(request, queryset, active=False)

    def _active_set(self, request: HttpRequest, queryset: QuerySet[Principal], *, active: bool) -> None:
        changed = [principal_update(principal=p, is_active=active, actor=admin_actor(request)).name for p in queryset
                   if admin_authorized(request, "update", self.rbac_resource(p), report=True)]
        if changed:
            self.message_user(request, f"{'Activated' if active else 'Deactivated'}: {', '.join(changed)}")

"""Admin for chains, relationships (expressions checked on save, like the API) and task runs (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.chains.admin_callers import CallerAdminMixin, CallerForm, CallerInlineMixin
from apps.chains.models import Chain, Relationship, TaskRun
from apps.chains.services.callers import check_may_execute
from apps.chains.services.chains import chain_clone, chain_set_enabled, check_relationship
from apps.core.errors import ApplicationError
from apps.rbac.authentication import request_principal
from apps.runners.selectors import function_content_readable, run_content_shown


class RelationshipForm(CallerForm):
    class Meta:
        model = Relationship
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        trigger, action = data.get("trigger"), data.get("action")
        if trigger is not None and action is not None:
            try:
                check_relationship(trigger=trigger, condition=data.get("condition", ""),
                                   transformation=data.get("transformation", ""),
                                   transformation_kind=data.get("transformation_kind", "cel"))
                check_may_execute(by=self.by, functions=[trigger, action])
            except ApplicationError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


class RelationshipInline(CallerInlineMixin, admin.TabularInline):
    model = Relationship
    form = RelationshipForm
    extra = 0
    fields = ["name", "trigger", "action", "condition", "transformation", "transformation_kind", "delay_seconds",
              "active", "allow_new_chains"]


@admin.register(Chain)
class ChainAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "enabled", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    readonly_fields = ["version", "cloned_from"]
    inlines = [RelationshipInline]
    actions = ["enable", "disable", "clone"]

    @admin.action(description="Enable the selected chains")
    def enable(self, request: HttpRequest, queryset: QuerySet[Chain]) -> None:
        for chain in queryset:
            chain_set_enabled(chain=chain, enabled=True)

    @admin.action(description="Disable the selected chains")
    def disable(self, request: HttpRequest, queryset: QuerySet[Chain]) -> None:
        for chain in queryset:
            chain_set_enabled(chain=chain, enabled=False)

    @admin.action(description="Clone the selected chains (disabled copies)")
    def clone(self, request: HttpRequest, queryset: QuerySet[Chain]) -> None:
        for chain in queryset:
            try:
                chain_clone(by=request_principal(request), chain=chain, name=f"{chain.name} (copy)")
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            # The same rule as the relationship services: any change to a chain's relationships is a new version.
            chain = form.instance
            Chain.objects.filter(pk=chain.pk).update(version=chain.version + 1)


@admin.register(Relationship)
class RelationshipAdmin(CallerAdminMixin, admin.ModelAdmin):
    form = RelationshipForm
    list_display = ["__str__", "chain", "trigger", "action", "active", "delay_seconds"]
    list_filter = ["chain", "active"]


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin):
    list_display = ["id", "function", "status", "chain", "attempts", "created_at", "finished_at"]
    list_filter = ["status", "triggered_by", "chain"]
    search_fields = ["id", "idempotency_key", "function__qualified_name"]
    date_hierarchy = "created_at"
    raw_id_fields = ["parent", "root", "relationship"]
    readonly_fields = ["holder", "swept_at"]  # not editable, so shown only when named

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> TaskRun | None:
        """The run as this user may see it; never saved (runs are read-only here), so masking the copy is safe."""
        run = super().get_object(request, object_id, from_field)
        if run is not None:
            readable = function_content_readable(function=run.function, principal=request_principal(request))
            run.payload, run.result = run_content_shown(function=run.function, payload=run.payload,
                                                        result=run.result, readable=readable)
        return run


"""Admin for actors: settings checked by their kind on save, runtime state read-only, enable/disable/invoke."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.actors.models import Actor, ActorKind, ActorState
from apps.actors.services import (
    actor_create,
    actor_invoke,
    actor_set_enabled,
    actor_update,
    check_actor,
    check_actor_run_as,
)
from apps.chains.admin_callers import CallerAdminMixin, CallerForm
from apps.core.errors import ApplicationError
from apps.rbac.authentication import request_principal


class ActorForm(CallerForm):
    class Meta:
        model = Actor
        fields = ["name", "description", "kind", "function", "chain", "payload", "options", "run_as", "enabled"]
        help_texts = {"options": "every/singleton: interval_seconds, run_now, delay_seconds (singleton: "
                                 "lease_ttl_seconds); poll: interval_seconds, run_now, tolerance_percent; once: "
                                 "delay_seconds; loop: idle_backoff_min_ms, idle_backoff_max_ms; subscription: queue, "
                                 "exchange, exchange_type, routing_key, prefetch, retry_threshold, dead_letter_queue; "
                                 "absorber: handlers [{pattern, function | chain, payload_key}]"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            check_actor(kind=data.get("kind") or "", function=data.get("function"), chain=data.get("chain"),
                        payload=data.get("payload", {}), options=data.get("options", {}))
            check_actor_run_as(by=self.by, run_as=data.get("run_as"))
        except ApplicationError as exc:
            field = (exc.field or "").split(".", 1)[0]
            self.add_error(field if field in self.fields else None, f"{exc.field}: {exc.message}"
                           if exc.field and exc.field != field else exc.message)
        return data


STATE_FIELDS = ("last_fired_at", "last_run", "fired_count", "skipped_count", "last_result", "last_result_at",
                "last_error", "last_error_at", "error_count", "leader", "node", "heartbeat_at")


class ActorStateInline(admin.StackedInline):
    model = ActorState
    can_delete = False
    readonly_fields = STATE_FIELDS
    fields = STATE_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Actor)
class ActorAdmin(CallerAdminMixin, admin.ModelAdmin):
    form = ActorForm
    list_display = ["name", "kind", "function", "chain", "enabled", "available", "extension", "last_fired",
                    "last_error"]
    list_filter = ["kind", "enabled", "available", "extension"]
    list_select_related = ["function", "chain", "extension", "state"]
    search_fields = ["name", "description"]
    readonly_fields = ["extension", "available", "customized"]
    inlines = [ActorStateInline]
    actions = ["enable", "disable", "invoke"]

    @admin.display(description="last fired")
    def last_fired(self, actor: Actor) -> Any:
        state = getattr(actor, "state", None)
        return state.last_fired_at if state else None

    @admin.display(description="last error")
    def last_error(self, actor: Actor) -> str:
        state = getattr(actor, "state", None)
        return (state.last_error or {}).get("message", "")[:80] if state else ""

    def save_model(self, request: HttpRequest, obj: Actor, form: Any, change: bool) -> None:
        data = form.cleaned_data
        values = {key: data.get(key) for key in ActorForm.Meta.fields}
        # An emptied JSON field is an empty object, as when the actor was created without one.
        values.update({key: {} for key in ("payload", "options") if values[key] is None})
        by = request_principal(request)
        saved = actor_update(by=by, actor=obj, **values) if change else actor_create(by=by, **values)
        obj.pk = saved.pk

    @admin.action(description="Enable the selected actors")
    def enable(self, request: HttpRequest, queryset: QuerySet[Actor]) -> None:
        for actor in queryset:
            actor_set_enabled(actor=actor, enabled=True)

    @admin.action(description="Disable the selected actors")
    def disable(self, request: HttpRequest, queryset: QuerySet[Actor]) -> None:
        for actor in queryset:
            actor_set_enabled(actor=actor, enabled=False)

    @admin.action(description="Invoke the selected actors now (as you)")
    def invoke(self, request: HttpRequest, queryset: QuerySet[Actor]) -> None:
        from apps.rbac.authorization import principal_for_user

        principal = principal_for_user(request.user)  # type: ignore[arg-type]
        for actor in queryset.exclude(kind=ActorKind.ABSORBER):
            try:
                run = actor_invoke(actor=actor, payload={}, principal=principal)
            except ApplicationError as exc:
                self.message_user(request, f"{actor.name}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{actor.name}: run {run.pk} queued")

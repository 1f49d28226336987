"""Admin for schedules: timing (cron and time zone, or an interval) edited with the schedule, fires read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.chains.admin_callers import CallerAdminMixin, CallerForm
from apps.chains.services.callers import check_run_as
from apps.core.errors import ApplicationError
from apps.rbac.authentication import request_principal
from apps.schedules.models import Schedule, ScheduleFire
from apps.schedules.services import (
    Timing,
    check_schedule,
    schedule_create,
    schedule_set_enabled,
    schedule_timing,
    schedule_update,
)

FORM_FIELDS = {"timezone_name": "timezone", "cron": "cron", "interval_seconds": "interval_seconds"}
SERVICE_FIELDS = {"timezone": "timezone_name"}


class ScheduleForm(CallerForm):
    cron = forms.CharField(required=False, help_text='cron expression: "*/5 * * * *", "0 3 * * mon-fri", "@daily"')
    interval_seconds = forms.IntegerField(required=False, min_value=1, help_text="or: every this many seconds")
    timezone = forms.CharField(initial="UTC", help_text="IANA time zone the cron expression is read in")

    class Meta:
        model = Schedule
        fields = ["name", "description", "cron", "interval_seconds", "timezone", "function", "chain", "payload",
                  "catch_up", "run_as", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            timing = schedule_timing(schedule=self.instance)
            self.initial.update(cron=timing.cron, interval_seconds=timing.interval_seconds,
                                timezone=timing.timezone_name)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            timing = Timing(cron=data.get("cron") or None, interval_seconds=data.get("interval_seconds"),
                            timezone_name=data.get("timezone") or "UTC")
            check_schedule(name=data.get("name") or "", timing=timing, function=data.get("function"),
                           chain=data.get("chain"), payload=data.get("payload", {}),
                           catch_up=data.get("catch_up") or "")
            check_run_as(by=self.by, run_as=data.get("run_as"))
        except ApplicationError as exc:
            field = FORM_FIELDS.get(exc.field or "", exc.field)
            self.add_error(field if field in self.fields else None, exc.message)
        return data


FIRE_FIELDS = ("tick", "status", "count", "until", "reason", "error", "run", "dispatched_by", "started_at")


class ScheduleFireInline(admin.TabularInline):
    model = ScheduleFire
    fields = FIRE_FIELDS
    readonly_fields = FIRE_FIELDS
    extra = 0
    max_num = 0
    ordering = ["-tick"]
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScheduleFire]:
        return super().get_queryset(request).order_by("-tick")


@admin.register(Schedule)
class ScheduleAdmin(CallerAdminMixin, admin.ModelAdmin):
    form = ScheduleForm
    list_display = ["name", "timing", "target", "catch_up", "enabled", "last_tick_at"]
    list_filter = ["enabled", "catch_up"]
    list_select_related = ["function", "chain", "periodic_task__crontab", "periodic_task__interval"]
    search_fields = ["name", "description"]
    readonly_fields = ["last_tick_at", "anchor_at"]
    inlines = [ScheduleFireInline]
    actions = ["enable", "disable"]

    @admin.display(description="when")
    def timing(self, schedule: Schedule) -> str:
        timing = schedule_timing(schedule=schedule)
        return f"{timing.cron} ({timing.timezone_name})" if timing.cron else f"every {timing.interval_seconds}s"

    def save_model(self, request: HttpRequest, obj: Schedule, form: Any, change: bool) -> None:
        # The service saves the schedule and its beat entry together; the admin keeps the saved row's id.
        data = form.cleaned_data
        values: dict[str, Any] = {
            "name": data["name"], "description": data.get("description", ""), "cron": data.get("cron") or None,
            "interval_seconds": data.get("interval_seconds"), "timezone_name": data.get("timezone") or "UTC",
            "function": data.get("function"), "chain": data.get("chain"), "payload": data.get("payload") or {},
            "catch_up": data["catch_up"], "run_as": data.get("run_as"), "enabled": data.get("enabled", True),
        }
        by = request_principal(request)
        if change:
            changed = {SERVICE_FIELDS.get(field, field) for field in form.changed_data}
            saved = schedule_update(by=by, schedule=obj, **{key: values[key] for key in values if key in changed})
        else:
            saved = schedule_create(by=by, **values)
        obj.pk = saved.pk

    @admin.action(description="Enable the selected schedules (counting from now)")
    def enable(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset:
            schedule_set_enabled(schedule=schedule, enabled=True)

    @admin.action(description="Disable the selected schedules")
    def disable(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset:
            schedule_set_enabled(schedule=schedule, enabled=False)


@admin.register(ScheduleFire)
class ScheduleFireAdmin(admin.ModelAdmin):
    list_display = ["schedule", "tick", "status", "count", "reason", "run", "dispatched_by"]
    list_filter = ["status", "schedule"]
    date_hierarchy = "tick"
    raw_id_fields = ["run"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

"""Wire shapes of schedules (timing flattened in: cron and time zone, or an interval) and their fires."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.chains.target_serializers import TargetSerializer
from apps.schedules.models import CatchUp, Schedule, ScheduleFire
from apps.schedules.services import schedule_ticks, schedule_timing


class ScheduleSerializer(TargetSerializer):
    cron = serializers.CharField(required=False, allow_null=True, allow_blank=True,
                                 help_text='cron expression, e.g. "*/5 * * * *" or "@daily"')
    interval_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    timezone = serializers.CharField(required=False, default="UTC", help_text="IANA time zone of the cron expression")
    catch_up = serializers.ChoiceField(choices=CatchUp.choices, default=CatchUp.ONCE)
    next_tick_at = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = ["id", "name", "description", "cron", "interval_seconds", "timezone", "function", "chain",
                  "payload", "catch_up", "run_as", "enabled", "last_tick_at", "next_tick_at", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "last_tick_at", "next_tick_at", "created_at", "updated_at"]

    def to_representation(self, instance: Schedule) -> dict[str, Any]:
        data = super().to_representation(instance)
        timing = schedule_timing(schedule=instance)
        data.update(cron=timing.cron, interval_seconds=timing.interval_seconds, timezone=timing.timezone_name)
        return data

    def get_next_tick_at(self, instance: Schedule) -> str | None:
        if not instance.enabled:
            return None
        return schedule_ticks(schedule=instance).next_after(instance.last_tick_at or instance.created_at).isoformat()


class ScheduleFireSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduleFire
        fields = ["id", "tick", "until", "count", "status", "reason", "error", "run", "dispatched_by", "created_at",
                  "started_at"]
        read_only_fields = fields

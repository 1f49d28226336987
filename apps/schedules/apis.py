"""REST API of schedules (`schedules/<name>` in RBAC) and their fires."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.rbac.authentication import request_principal
from apps.schedules.models import Schedule, ScheduleFire
from apps.schedules.selectors import schedule_get, schedule_list
from apps.schedules.serializers import ScheduleFireSerializer, ScheduleSerializer
from apps.schedules.services import schedule_delete, schedule_save, schedule_timing

SAVED_FIELDS = ("name", "description", "function", "chain", "payload", "catch_up", "run_as", "enabled")


def _save(request: Request, data: dict[str, Any], schedule: Schedule | None = None) -> Schedule:
    saved: dict[str, Any] = {key: data.get(key) for key in SAVED_FIELDS}
    return schedule_save(
        by=request_principal(request), schedule=schedule, cron=data.get("cron") or None,
        interval_seconds=data.get("interval_seconds"), timezone_name=data.get("timezone") or "UTC", **saved,
    )


class ScheduleListApi(generics.ListCreateAPIView[Schedule]):
    serializer_class = ScheduleSerializer
    filterset_fields = ["enabled", "catch_up"]

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        name = request.data.get("name") if request.method == "POST" and isinstance(request.data, Mapping) else None
        return f"schedules/{name}" if name else "schedules"

    def get_queryset(self) -> Any:
        return schedule_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = {"description": "", "payload": {}, "enabled": True, **body.validated_data}
        return Response(ScheduleSerializer(_save(request, data)).data, status=status.HTTP_201_CREATED)


class ScheduleDetailApi(APIView):
    """GET a schedule; PATCH any field (a new timing counts from now); DELETE it (its runs stay)."""

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"schedules/{schedule_get(schedule_id=self.kwargs['pk']).name}"

    @extend_schema(responses=ScheduleSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ScheduleSerializer(schedule_get(schedule_id=pk)).data)

    @extend_schema(request=ScheduleSerializer, responses=ScheduleSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        schedule = schedule_get(schedule_id=pk)
        body = ScheduleSerializer(schedule, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        timing = schedule_timing(schedule=schedule)
        current = {"cron": timing["cron"], "interval_seconds": timing["interval_seconds"],
                   "timezone": timing["timezone_name"], **{key: getattr(schedule, key) for key in SAVED_FIELDS}}
        changes = dict(body.validated_data)
        if changes.get("cron"):
            current["interval_seconds"] = None
        if changes.get("interval_seconds"):
            current["cron"] = None
        return Response(ScheduleSerializer(_save(request, {**current, **changes}, schedule)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        schedule_delete(schedule=schedule_get(schedule_id=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScheduleFireListApi(generics.ListAPIView[ScheduleFire]):
    """The fires of one schedule, newest tick first: what ran, what was skipped and why."""

    serializer_class = ScheduleFireSerializer
    queryset = ScheduleFire.objects.none()  # the model, for the schema; get_queryset picks the schedule's
    filterset_fields = ["status"]

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"schedules/{schedule_get(schedule_id=self.kwargs['pk']).name}"

    def get_queryset(self) -> Any:
        return ScheduleFire.objects.filter(schedule_id=self.kwargs["pk"]).order_by("-tick")

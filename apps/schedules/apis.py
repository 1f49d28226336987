"""REST API of schedules (`schedules/<name>` in RBAC) and their fires."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
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
from apps.schedules.services import schedule_create, schedule_delete, schedule_update

SAVED_FIELDS = ("name", "description", "function", "chain", "payload", "catch_up", "run_as", "enabled")


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
        saved: dict[str, Any] = {key: data.get(key) for key in SAVED_FIELDS}
        schedule = schedule_create(
            by=request_principal(request), cron=data.get("cron") or None, interval_seconds=data.get("interval_seconds"),
            timezone_name=data.get("timezone") or "UTC", **saved,
        )
        return Response(ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleApi(APIView):
    """A view of the schedule the URL names: read once per request, for its RBAC resource and the handler."""

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"schedules/{self.schedule.name}"

    @cached_property
    def schedule(self) -> Schedule:
        return schedule_get(schedule_id=self.kwargs["pk"])


class ScheduleDetailApi(ScheduleApi):
    """GET a schedule; PATCH any field (a new timing counts from now); DELETE it (its runs stay)."""

    @extend_schema(responses=ScheduleSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ScheduleSerializer(self.schedule).data)

    @extend_schema(request=ScheduleSerializer, responses=ScheduleSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        body = ScheduleSerializer(self.schedule, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        given = body.validated_data
        changes = {key: given[key] for key in (*SAVED_FIELDS, "cron", "interval_seconds") if key in given}
        if "timezone" in given:
            changes["timezone_name"] = given["timezone"]
        schedule = schedule_update(by=request_principal(request), schedule=self.schedule, **changes)
        return Response(ScheduleSerializer(schedule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        schedule_delete(schedule=self.schedule)
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

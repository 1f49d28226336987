"""A test-only URLconf: views that fail in each way the error handler must turn into the envelope."""

from typing import Any, NoReturn

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.errors import ApplicationError


class RuleSerializer(serializers.Serializer):
    path = serializers.CharField()
    actions = serializers.ListField(child=serializers.ChoiceField(choices=["read", "create"]))


class PolicySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    rules = RuleSerializer(many=True)


class FailingApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def get(self, request: Request, kind: str) -> NoReturn:
        if kind == "application":
            raise ApplicationError("quota_exceeded", "Budget exhausted for team ops", field="team", status=409)
        if kind == "django-validation":
            raise DjangoValidationError({"cron": ["Not a cron expression"]})
        if kind == "missing":
            raise Http404("secret internals")
        raise RuntimeError("database password is hunter2")

    def post(self, request: Request, kind: str) -> NoReturn:
        serializer = PolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raise AssertionError("unreachable in these tests")


urlpatterns = [
    path("api/v1/fail/<str:kind>/", FailingApi.as_view()),
    path("api/v1/", include("legion_site.api_urls")),
]
handler404 = "apps.core.views.not_found"

"""REST API of webhooks (`webhooks/<name>` in RBAC), and the inbound endpoint, authenticated by signature only."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chains.serializers import TaskRunSerializer
from apps.core.errors import ApplicationError
from apps.rbac.authentication import request_principal
from apps.webhooks.models import Webhook
from apps.webhooks.selectors import webhook_get, webhook_list
from apps.webhooks.serializers import RotateSerializer, WebhookSerializer
from apps.webhooks.services import (
    webhook_create,
    webhook_delete,
    webhook_receive,
    webhook_rotate_secret,
    webhook_update,
)


class WebhookListApi(generics.ListCreateAPIView[Webhook]):
    serializer_class = WebhookSerializer
    filterset_fields = ["enabled"]

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        name = request.data.get("name") if request.method == "POST" and isinstance(request.data, Mapping) else None
        return f"webhooks/{name}" if name else "webhooks"

    def get_queryset(self) -> Any:
        return webhook_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """201 with the webhook and its `secret`, the only time the secret is shown."""
        body = WebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        webhook, secret = webhook_create(by=request_principal(request), **body.validated_data)
        return Response({**WebhookSerializer(webhook).data, "secret": secret}, status=status.HTTP_201_CREATED)


class WebhookApi(APIView):
    """A view of the webhook the URL names: read once per request, for its RBAC resource and the handler."""

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"webhooks/{self.webhook.name}"

    @cached_property
    def webhook(self) -> Webhook:
        return webhook_get(webhook_id=self.kwargs["pk"])


class WebhookDetailApi(WebhookApi):
    @extend_schema(responses=WebhookSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(WebhookSerializer(self.webhook).data)

    @extend_schema(request=WebhookSerializer, responses=WebhookSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        body = WebhookSerializer(self.webhook, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        if "secret" in body.validated_data:
            raise ApplicationError("invalid", "change the secret with rotate-secret/", field="secret")
        saved = webhook_update(by=request_principal(request), webhook=self.webhook, **body.validated_data)
        return Response(WebhookSerializer(saved).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        webhook_delete(webhook=self.webhook)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateApi(WebhookApi):
    """A new secret (yours, or generated), returned once; the old one stops verifying at once."""

    rbac_action = "update"

    @extend_schema(request=RotateSerializer, responses=RotateSerializer)
    def post(self, request: Request, pk: int) -> Response:
        body = RotateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        secret = webhook_rotate_secret(by=request_principal(request), webhook=self.webhook,
                                       secret=body.validated_data.get("secret"))
        return Response({"secret": secret})


class WebhookReceiveApi(APIView):
    """POST a signed body: 202 with the run (the same run for a replay); 401 for a missing, stale or bad signature."""

    # The signature is the authentication: no API key, no session, no CSRF; RBAC applies to the run
    # (the webhook's `run_as` must be allowed to execute what it starts).
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(
        request=OpenApiTypes.OBJECT, auth=[],
        responses={202: inline_serializer("WebhookReceived", {"run": TaskRunSerializer(),
                                                              "replayed": serializers.BooleanField()})},
    )
    def post(self, request: Request, name: str) -> Response:
        limit = settings.CONFIG["chains.max_payload_bytes"]
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            # Refused before the body is read: a huge upload never reaches memory.
            raise ApplicationError("payload_too_large", f"the body is over {limit} bytes", status=413)
        run, replayed = webhook_receive(name=name, headers=request.headers, body=request.body,
                                        query=request.query_params.dict())
        return Response({"run": TaskRunSerializer(run).data, "replayed": replayed}, status=status.HTTP_202_ACCEPTED)

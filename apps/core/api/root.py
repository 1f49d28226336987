"""The /api/v1 root: where each part of the API lives, readable without credentials."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


class ApiRootApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        def link(name: str) -> str:
            return reverse(name, request=request)

        return Response(
            {
                "schema": link("api-schema"),
                "docs": link("api-docs"),
                "rbac": {
                    "principals": link("rbac-principal-list"),
                    "policies": link("rbac-policy-list"),
                    "api_keys": link("rbac-apikey-list"),
                    "check": link("rbac-check"),
                    "me": link("rbac-me"),
                },
                "runners": {
                    "extensions": link("runners-extension-list"),
                    "functions": link("runners-function-list"),
                    "catalog": link("runners-catalog"),
                },
                "chains": {
                    "chains": link("chains-chain-list"),
                    "relationships": link("chains-relationship-list"),
                    "runs": link("chains-run-list"),
                    "actors": link("chains-actor-list"),
                    "schedules": link("chains-schedule-list"),
                    "webhooks": link("chains-webhook-list"),
                    "spool": link("chains-spool"),
                },
                "proxy": {
                    "providers": link("proxy-provider-list"),
                    "aliases": link("proxy-alias-list"),
                    "status": link("proxy-status"),
                },
            }
        )

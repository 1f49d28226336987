"""REST API of the registry: extensions, functions and the catalog (the engine serves invoking a function)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.runners.catalog import catalog_build
from apps.runners.models import Extension, Function
from apps.runners.selectors import extension_list, function_get, function_list
from apps.runners.serializers import ExtensionSerializer, FunctionSerializer


class ExtensionListApi(generics.ListAPIView[Extension]):
    rbac_resource = "extensions"
    serializer_class = ExtensionSerializer
    filterset_fields = ["available"]

    def get_queryset(self) -> Any:
        return extension_list()


class ExtensionDetailApi(generics.RetrieveAPIView[Extension]):
    serializer_class = ExtensionSerializer
    lookup_field = "name"

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"extensions/{self.kwargs['name']}"

    def get_queryset(self) -> Any:
        return extension_list()


class FunctionListApi(generics.ListAPIView[Function]):
    rbac_resource = "runners"
    serializer_class = FunctionSerializer
    filterset_fields = ["available", "risk_tier", "idempotent"]

    def get_queryset(self) -> Any:
        return function_list()


class FunctionApi(APIView):
    """A view of the function the URL names: read once per request, for its RBAC resource and the handler."""

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return self.function.resource

    @cached_property
    def function(self) -> Function:
        return function_get(qualified_name=self.kwargs["qualified_name"])


class FunctionDetailApi(FunctionApi):
    def get(self, request: Request, qualified_name: str) -> Response:
        return Response(FunctionSerializer(self.function).data)


class CatalogApi(APIView):
    """The capability catalog from source, with counts."""

    rbac_resource = "extensions"

    def get(self, request: Request) -> Response:
        return Response(catalog_build())

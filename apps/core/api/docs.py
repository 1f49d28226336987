"""The OpenAPI schema and its Swagger and ReDoc pages: for authenticated callers only (an API key or a session).

The schema maps every endpoint and filter of a deployment; it is no business of anonymous callers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class SchemaApi(SpectacularAPIView):
    permission_classes = [IsAuthenticated]


class _DocsPage(APIView):
    """A page people open in a browser: without credentials they are sent to the admin's login and back."""

    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, NotAuthenticated):
            query = urlencode({"next": self.request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('admin:login')}?{query}")  # type: ignore[return-value]
        return super().handle_exception(exc)


class SwaggerPage(_DocsPage, SpectacularSwaggerView):
    pass


class RedocPage(_DocsPage, SpectacularRedocView):
    pass

"""/api/v1: the root listing, the OpenAPI schema and docs, and each app's endpoints."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core.api.root import ApiRootApi

urlpatterns = [
    path("", ApiRootApi.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("rbac/", include("apps.rbac.urls")),
    path("runners/", include("apps.runners.urls")),
    path("chains/", include("apps.chains.urls")),
    path("proxy/", include("apps.llm.urls")),

]

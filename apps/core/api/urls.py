"""/api/v1: the root listing, the OpenAPI schema and docs, and each app's endpoints."""

from django.urls import include, path

from apps.core.api.docs import RedocPage, SchemaApi, SwaggerPage
from apps.core.api.root import ApiRootApi

urlpatterns = [
    path("", ApiRootApi.as_view(), name="api-root"),
    path("schema/", SchemaApi.as_view(), name="api-schema"),
    path("docs/", SwaggerPage.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", RedocPage.as_view(url_name="api-schema"), name="api-redoc"),
    path("rbac/", include("apps.rbac.urls")),
    path("runners/", include("apps.runners.urls")),
    path("chains/", include("apps.chains.urls")),
    path("proxy/", include("apps.llm.urls")),

]

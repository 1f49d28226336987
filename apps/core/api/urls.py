"""The API's own pages under /api/v1: the root listing, the OpenAPI schema and its docs (legion_site.api_urls
mounts them beside each app's endpoints)."""

from django.urls import path

from apps.core.api.docs import RedocPage, SchemaApi, SwaggerPage
from apps.core.api.root import ApiRootApi

urlpatterns = [
    path("", ApiRootApi.as_view(), name="api-root"),
    path("schema/", SchemaApi.as_view(), name="api-schema"),
    path("docs/", SwaggerPage.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", RedocPage.as_view(url_name="api-schema"), name="api-redoc"),
]

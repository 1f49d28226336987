"""Top-level URLs: admin, health probes and the versioned REST API."""

from django.contrib import admin
from django.urls import include, path

from apps.core import views as core_views
from apps.runners.pages import catalog_page

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/v1/", include("legion_site.api_urls")),
    path("catalog/", catalog_page, name="catalog"),
]

handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"

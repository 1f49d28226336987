"""/api/v1/runners/: extensions, functions and the capability catalog (invoking a function is the engine's)."""

from django.urls import path

from apps.runners import apis

urlpatterns = [
    path("extensions/", apis.ExtensionListApi.as_view(), name="runners-extension-list"),
    path("extensions/<str:name>/", apis.ExtensionDetailApi.as_view(), name="runners-extension-detail"),
    path("functions/", apis.FunctionListApi.as_view(), name="runners-function-list"),
    path("functions/<str:qualified_name>/", apis.FunctionDetailApi.as_view(), name="runners-function-detail"),
    path("catalog/", apis.CatalogApi.as_view(), name="runners-catalog"),
]

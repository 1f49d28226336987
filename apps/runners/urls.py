"""/api/v1/runners/: extensions, functions (and invoking them) and the capability catalog."""

from django.urls import path

from apps.runners import apis

urlpatterns = [
    path("extensions/", apis.ExtensionListApi.as_view(), name="runners-extension-list"),
    path("extensions/<str:name>/", apis.ExtensionDetailApi.as_view(), name="runners-extension-detail"),
    path("functions/", apis.FunctionListApi.as_view(), name="runners-function-list"),
    path("functions/<str:qualified_name>/", apis.FunctionDetailApi.as_view(), name="runners-function-detail"),
    path("functions/<str:qualified_name>/invoke/", apis.FunctionInvokeApi.as_view(), name="runners-function-invoke"),
    path("catalog/", apis.CatalogApi.as_view(), name="runners-catalog"),
]

"""/api/v1: the API's own pages (apps.core.api) and each app's endpoints, composed here, above every app."""

from django.urls import include, path

from apps.chains.apis import FunctionInvokeApi

urlpatterns = [
    path("", include("apps.core.api.urls")),
    path("rbac/", include("apps.rbac.urls")),
    path("runners/", include("apps.runners.urls")),
    # Invoking a function creates a task run: the engine serves it, at the path clients have always used.
    path("runners/functions/<str:qualified_name>/invoke/", FunctionInvokeApi.as_view(),
         name="runners-function-invoke"),
    path("chains/", include("apps.chains.urls")),
    path("chains/", include("apps.actors.urls")),
    path("chains/", include("apps.schedules.urls")),
    path("chains/", include("apps.webhooks.urls")),
    path("proxy/", include("apps.llm.urls")),
]

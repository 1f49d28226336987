"""/api/v1/chains/webhooks/ (configuration) and /api/v1/chains/hooks/<name>/ (the inbound endpoint)."""

from django.urls import path

from apps.webhooks import apis

urlpatterns = [
    path("webhooks/", apis.WebhookListApi.as_view(), name="chains-webhook-list"),
    path("webhooks/<int:pk>/", apis.WebhookDetailApi.as_view(), name="chains-webhook-detail"),
    path("webhooks/<int:pk>/rotate-secret/", apis.WebhookRotateApi.as_view(), name="chains-webhook-rotate"),
    path("hooks/<slug:name>/", apis.WebhookReceiveApi.as_view(), name="chains-webhook-receive"),
]

"""/api/v1/proxy/: the proxy's lineup (providers with models, aliases) and the providers' live status."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.llm.apis import AliasViewSet, ProviderStatusApi, ProviderViewSet

router = SimpleRouter()
router.register("providers", ProviderViewSet, basename="proxy-provider")
router.register("aliases", AliasViewSet, basename="proxy-alias")

urlpatterns = [
    path("status/", ProviderStatusApi.as_view(), name="proxy-status"),
    *router.urls,
]

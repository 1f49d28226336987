"""/api/v1/rbac/: routes of the RBAC API (names are linked from the API root)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.rbac.apis.api_keys import ApiKeyViewSet
from apps.rbac.apis.check import CheckApi
from apps.rbac.apis.me import MeApi
from apps.rbac.apis.policies import PolicyViewSet
from apps.rbac.apis.principals import PrincipalViewSet

router = SimpleRouter()
router.register("principals", PrincipalViewSet, basename="rbac-principal")
router.register("policies", PolicyViewSet, basename="rbac-policy")
router.register("api-keys", ApiKeyViewSet, basename="rbac-apikey")

urlpatterns = [
    path("check/", CheckApi.as_view(), name="rbac-check"),
    path("me/", MeApi.as_view(), name="rbac-me"),
    *router.urls,
]

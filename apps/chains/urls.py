"""/api/v1/chains/: chains, relationships, task runs and the spool."""

from django.urls import path

from apps.chains import apis

urlpatterns = [
    path("chains/", apis.ChainListApi.as_view(), name="chains-chain-list"),
    path("chains/<int:pk>/", apis.ChainDetailApi.as_view(), name="chains-chain-detail"),
    path("chains/<int:pk>/clone/", apis.ChainCloneApi.as_view(), name="chains-chain-clone"),
    path("chains/<int:pk>/trigger/", apis.ChainTriggerApi.as_view(), name="chains-chain-trigger"),
    path("relationships/", apis.RelationshipListApi.as_view(), name="chains-relationship-list"),
    path("relationships/<int:pk>/", apis.RelationshipDetailApi.as_view(), name="chains-relationship-detail"),
    path("runs/", apis.RunListApi.as_view(), name="chains-run-list"),
    path("runs/<str:pk>/", apis.RunDetailApi.as_view(), name="chains-run-detail"),
    path("runs/<str:pk>/cancel/", apis.RunCancelApi.as_view(), name="chains-run-cancel"),
    path("spool/", apis.SpoolApi.as_view(), name="chains-spool"),
]

"""/api/v1/chains/actors/: actors, invoking one, and absorbing an input."""

from django.urls import path

from apps.actors import apis

urlpatterns = [
    path("actors/", apis.ActorListApi.as_view(), name="chains-actor-list"),
    path("actors/<int:pk>/", apis.ActorDetailApi.as_view(), name="chains-actor-detail"),
    path("actors/<int:pk>/invoke/", apis.ActorInvokeApi.as_view(), name="chains-actor-invoke"),
    path("actors/<int:pk>/absorb/", apis.ActorAbsorbApi.as_view(), name="chains-actor-absorb"),
]

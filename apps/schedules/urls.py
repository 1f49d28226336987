"""/api/v1/chains/schedules/: cron and interval schedules and their fires."""

from django.urls import path

from apps.schedules import apis

urlpatterns = [
    path("schedules/", apis.ScheduleListApi.as_view(), name="chains-schedule-list"),
    path("schedules/<int:pk>/", apis.ScheduleDetailApi.as_view(), name="chains-schedule-detail"),
    path("schedules/<int:pk>/fires/", apis.ScheduleFireListApi.as_view(), name="chains-schedule-fires"),
]

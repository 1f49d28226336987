"""Django app configuration for schedules that start runs of the job engine from django-celery-beat."""

from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "apps.schedules"
    label = "schedules"

"""Django app configuration for runners."""

from django.apps import AppConfig


class RunnersConfig(AppConfig):
    name = "apps.runners"
    label = "runners"

"""Django app configuration for inbound webhooks that start runs of the job engine."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"

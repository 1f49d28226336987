"""Core app: settings, crypto, health, the CLI and the REST API's shared plumbing."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

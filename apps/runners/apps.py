"""Django app configuration for runners: the registry is synced into the database after every migrate."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RunnersConfig(AppConfig):
    name = "apps.runners"
    label = "runners"

    def ready(self) -> None:
        # Workers sync too (apps.chains.signals); migrate is the start step of every deployment.
        post_migrate.connect(_sync_after_migrate, sender=self)


def _sync_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    from apps.runners.services import registry_sync

    registry_sync()

"""Django app configuration for chains: a starting worker syncs the registry and starts the spool drainer."""

from typing import Any

from django.apps import AppConfig


class ChainsConfig(AppConfig):
    name = "apps.chains"
    label = "chains"

    def ready(self) -> None:
        from celery.signals import worker_ready

        worker_ready.connect(_worker_ready, weak=False)


def _worker_ready(**kwargs: Any) -> None:
    """A worker may start with code newer than the last migrate, and is the longest-lived publisher."""
    from apps.chains.spool.publisher import publisher
    from apps.runners.services import registry_sync

    registry_sync()
    publisher().drainer_ensure()

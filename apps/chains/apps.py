"""Django app configuration for chains: a starting worker syncs the registry and starts the spool drainer;
saving a chain, relationship or function drops this process's cached relationships, and an RBAC write its
snapshots of principals' policies."""

from typing import Any

from django.apps import AppConfig


class ChainsConfig(AppConfig):
    name = "apps.chains"
    label = "chains"

    def ready(self) -> None:
        from celery.signals import worker_ready
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from apps.chains.models import Chain, Relationship
        from apps.chains.services.advance import relationships_forget
        from apps.chains.services.principals import principals_forget
        from apps.rbac.models import Policy, Principal
        from apps.runners.models import Function

        worker_ready.connect(_worker_ready, weak=False)
        for model in (Chain, Relationship, Function):
            post_save.connect(relationships_forget, sender=model, weak=False)
            post_delete.connect(relationships_forget, sender=model, weak=False)
        for rbac_model in (Policy, Principal, get_user_model()):
            post_save.connect(principals_forget, sender=rbac_model, weak=False)
            post_delete.connect(principals_forget, sender=rbac_model, weak=False)
        for through in (Principal.policies.through, Principal.teams.through):
            m2m_changed.connect(principals_forget, sender=through, weak=False)


def _worker_ready(**kwargs: Any) -> None:
    """A worker may start with code newer than the last migrate, and is the longest-lived publisher."""
    from apps.core.spool.publisher import publisher
    from apps.runners.services import registry_sync

    registry_sync()
    publisher().drainer_ensure()

"""Django app configuration for rbac: schema extensions, and built-in policies kept current after migrate."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


class RbacConfig(AppConfig):
    name = "apps.rbac"
    label = "rbac"
    verbose_name = "RBAC"

    def ready(self) -> None:
        from apps.rbac import schema  # noqa: F401  (registers the drf-spectacular extensions)

        post_migrate.connect(builtin_policies_after_migrate, sender=self)
        self._changes_signal()

    def _changes_signal(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from apps.rbac.models import ApiKey, Policy, Principal
        from apps.rbac.signals import rbac_version_bump

        # A login's superuser and active flags decide its principal's policies too.
        for model in (ApiKey, Policy, Principal, get_user_model()):
            post_save.connect(rbac_version_bump, sender=model, dispatch_uid=f"rbac-version-save-{model.__name__}")
            post_delete.connect(rbac_version_bump, sender=model, dispatch_uid=f"rbac-version-del-{model.__name__}")
        for through in (Principal.policies.through, Principal.teams.through):
            m2m_changed.connect(rbac_version_bump, sender=through, dispatch_uid=f"rbac-version-m2m-{through.__name__}")


def builtin_policies_after_migrate(sender: AppConfig, apps: Any = None, **kwargs: Any) -> None:
    """Restore the built-in policies and the anonymous principal after every migrate (and after test
    flushes, which empty them).

    Skipped when the migration state has no Policy model yet, e.g. after `migrate rbac zero`.
    """
    from apps.rbac.builtin import builtin_policies_write, builtin_principals_write

    registry = apps if apps is not None else global_apps
    try:
        policy_model = registry.get_model("rbac", "Policy")
        principal_model = registry.get_model("rbac", "Principal")
    except LookupError:
        return
    builtin_policies_write(policy_model)
    builtin_principals_write(principal_model, policy_model)

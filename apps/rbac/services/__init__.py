"""RBAC writes: principals, policies and their attachments, API keys. Import from here."""

from apps.rbac.services.api_keys import (
    api_key_authenticate,
    api_key_create,
    api_key_create_check,
    api_key_revoke,
    api_key_verify,
)
from apps.rbac.services.bootstrap import admin_bootstrap
from apps.rbac.services.policies import (
    policy_attach,
    policy_builtin_ensure,
    policy_create,
    policy_delete,
    policy_detach,
    policy_update,
)
from apps.rbac.services.principals import (
    principal_create,
    principal_delete,
    principal_ensure_for_user,
    principal_update,
    teams_check,
)

__all__ = [
    "admin_bootstrap",
    "api_key_authenticate",
    "api_key_create",
    "api_key_create_check",
    "api_key_revoke",
    "api_key_verify",
    "policy_attach",
    "policy_builtin_ensure",
    "policy_create",
    "policy_delete",
    "policy_detach",
    "policy_update",
    "principal_create",
    "principal_delete",
    "principal_ensure_for_user",
    "principal_update",
    "teams_check",
]

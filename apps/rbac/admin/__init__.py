"""Django admin for RBAC: principals, policies and API keys, every object-level step checked by `authorize()`."""

from apps.rbac.admin import api_keys, policies, principals  # noqa: F401  (each registers its ModelAdmin)

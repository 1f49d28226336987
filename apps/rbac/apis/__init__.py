"""The RBAC REST API under /api/v1/rbac/: principals, policies, API keys, check and me."""

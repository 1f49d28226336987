"""The runner SDK: the whole of Legion an extension sees. Extensions, shipped or third-party, import only this.

    from apps.runners.sdk import Extension, PermanentError, RunContext, runner_function

What lives behind it (the registry, the engine that runs functions, RBAC) may change shape; the names
below are the contract, each defined once where Legion uses it and re-exported here. A run's context
carries whom it acts for and asks RBAC through `ctx.authorize(action, resource)`, so an extension never
reads runs or principals itself. docs/jobs.md explains each name.
"""

from __future__ import annotations

from apps.core.signatures import signature_headers
from apps.runners.definitions import Authorizer, Extension, PermanentError, RunContext, Sensitive, runner_function
from apps.runners.extension_settings import extension_connection, extension_settings, extension_settings_schema

__all__ = [
    "Authorizer",
    "Extension",
    "PermanentError",
    "RunContext",
    "Sensitive",
    "extension_connection",
    "extension_settings",
    "extension_settings_schema",
    "runner_function",
    "signature_headers",
]

"""What the lower layers run but may not name: the `legion` command groups, the readiness checks, and the reader
of the admin's providers and aliases. Each is named here, at the top, and looked up by that name below."""

# Each module exposes `register(subparsers)`; its parsers set `handler(options) -> int`
# (apps/core/management/commands/legion.py registers them in this order).
LEGION_COMMAND_MODULES = (
    "legion_site.commands.serve",
    "legion_site.commands.doctor",
    "legion_site.commands.config",
    "legion_site.commands.migrate",
    "legion_site.commands.admin",
    "apps.rbac.cli",
    "apps.runners.cli",
    "apps.chains.cli",
    "apps.actors.cli",
    "apps.schedules.cli",
    "apps.webhooks.cli",
)

# The checks behind /readyz (apps/core/health.py runs them): core's own and the proxy's, for this mode.
LEGION_READINESS_CHECKS = "legion_site.readiness.checks_for_mode"

# The admin's providers and aliases, which the proxy adds to the settings file's (proxy/admin_lineup.py).
PROXY_ADMIN_ENTRIES = "apps.llm.selectors.admin_entries"

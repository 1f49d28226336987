"""`legion <command>`: one front door; each command group lives in its own module under a `cli` package."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

# Each module exposes `register(subparsers)`; its parsers set `handler(options) -> int`.
COMMAND_MODULES = (
    "apps.core.cli.serve",
    "apps.core.cli.doctor",
    "apps.core.cli.config",
    "apps.core.cli.migrate",
    "apps.core.cli.admin",
    "apps.rbac.cli",
    "apps.runners.cli",
    "apps.chains.cli",
    "apps.actors.cli",
    "apps.schedules.cli",
    "apps.webhooks.cli",
)


class Command(BaseCommand):
    help = "Legion: start the services, check them, manage RBAC, run tasks."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="command", required=True, metavar="<command>")
        for module in COMMAND_MODULES:
            import_module(module).register(subparsers)

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["handler"](options)
        if code:
            raise SystemExit(code)

"""`legion <command>`: one front door; each command group is a module the LEGION_COMMAND_MODULES setting names."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Legion: start the services, check them, manage RBAC, run tasks."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="command", required=True, metavar="<command>")
        for module in settings.LEGION_COMMAND_MODULES:  # named by the composition root (legion_site/settings)
            import_module(module).register(subparsers)

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["handler"](options)
        if code:
            raise SystemExit(code)

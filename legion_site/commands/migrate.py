"""`legion migrate`: apply database migrations (full mode runs it once per release; lite's start does it)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management import call_command


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="apply database migrations")
    parser.set_defaults(handler=migrate)


def migrate(options: dict[str, Any]) -> int:
    call_command("migrate", interactive=False)
    return 0

"""`legion config`: the effective settings and their sources (secrets masked), or the reference table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.core.config.schema import SETTINGS, Context, Setting

REFERENCE_HEADER = "| key | environment | type | default | meaning |\n|---|---|---|---|---|"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="show effective settings and their sources")
    parser.add_argument("--reference", action="store_true", help="print every setting as a Markdown table")
    parser.set_defaults(handler=config_show)


def config_show(options: dict[str, Any]) -> int:
    if options["reference"]:
        print(settings_reference())
        return 0
    rows = settings.CONFIG.describe()
    width = max(len(key) for key, _, _ in rows)
    for key, shown, source in rows:
        print(f"{key:<{width}}  {shown}  ({source})")
    return 0


def settings_reference() -> str:
    """The table docs/settings.md carries; a test keeps the two equal."""
    return "\n".join([REFERENCE_HEADER, *(_reference_row(s) for s in SETTINGS)])


def _reference_row(setting: Setting) -> str:
    env = ", ".join(f"`{name}`" for name in setting.env_names)
    return f"| `{setting.key}` | {env} | {setting.kind.__name__} | {_default_text(setting)} | {setting.doc} |"


def _default_text(setting: Setting) -> str:
    home = Path("<home>")
    lite, full = (setting.default_for(Context(mode, home)) for mode in ("lite", "full"))
    if setting.key == "home":
        return "`var/` in the checkout"

    def shown(value: Any, mode: str) -> str:
        if value is None:
            return "**required**" if mode in setting.required_in else "unset"
        return f"`{value}`"

    return shown(lite, "lite") if lite == full else f"lite {shown(lite, 'lite')}, full {shown(full, 'full')}"

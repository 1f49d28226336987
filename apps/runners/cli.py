"""`legion catalog` (the capability catalog as JSON and Markdown) and `legion extensions sync`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from apps.runners.catalog import catalog_build, catalog_json, catalog_markdown
from apps.runners.services import registry_sync


def register(subparsers: argparse._SubParsersAction) -> None:
    catalog = subparsers.add_parser("catalog", help="write the capability catalog (JSON and Markdown) from source")
    catalog.add_argument("--format", choices=["json", "markdown"], default="markdown", help="what to print")
    catalog.add_argument("--output", type=Path, default=None,
                         help="write catalog.json and catalog.md into this directory instead of printing")
    catalog.set_defaults(handler=catalog_write)

    extensions = subparsers.add_parser("extensions", help="extensions and their runner functions")
    commands = extensions.add_subparsers(dest="extensions_command", required=True, metavar="<command>")
    commands.add_parser("sync", help="sync the registry into the database").set_defaults(handler=extensions_sync)


def catalog_write(options: dict[str, Any]) -> int:
    catalog = catalog_build()
    counts = catalog["counts"]
    summary = f"{counts['extensions']} extensions, {counts['runners']} runners, {counts['functions']} functions"
    if options["output"]:
        options["output"].mkdir(parents=True, exist_ok=True)
        (options["output"] / "catalog.json").write_text(catalog_json(catalog))
        (options["output"] / "catalog.md").write_text(catalog_markdown(catalog))
        print(f"wrote {options['output'] / 'catalog.json'} and catalog.md: {summary}")
    else:
        sys.stdout.write(catalog_json(catalog) if options["format"] == "json" else catalog_markdown(catalog))
    for name, error in catalog["errors"].items():
        print(f"legion catalog: {name} not loaded: {error}", file=sys.stderr)
    return 1 if catalog["errors"] else 0


def extensions_sync(options: dict[str, Any]) -> int:
    counts = registry_sync()
    print(f"synced {counts['extensions']} extensions, {counts['runners']} runners, {counts['functions']} functions")
    return 0

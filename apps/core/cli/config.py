"""`legion config`: the effective settings and where each came from, secrets masked."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="show effective settings and their sources")
    parser.set_defaults(handler=config_show)


def config_show(options: dict[str, Any]) -> int:
    rows = settings.CONFIG.describe()
    width = max(len(key) for key, _, _ in rows)
    for key, shown, source in rows:
        print(f"{key:<{width}}  {shown}  ({source})")
    return 0

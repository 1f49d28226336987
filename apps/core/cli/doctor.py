"""`legion doctor`: checks every configured service and names what is wrong; non-zero exit when any is."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.conf import settings

from apps.core.health import checks_run


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help="check database, broker, cache, pgvector and spool")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=doctor)


def doctor(options: dict[str, Any]) -> int:
    results = checks_run()
    failed = [r for r in results if not r.ok]
    if options["json"]:
        print(json.dumps({"mode": settings.LEGION_MODE, "ok": not failed,
                          "checks": [{"name": r.name, "ok": r.ok, "detail": r.detail} for r in results]}))
    else:
        print(f"Legion doctor ({settings.LEGION_MODE} mode)")
        for r in results:
            print(f"  {'ok  ' if r.ok else 'FAIL'}  {r.name:<14} {r.detail}")
        print(f"{len(failed)} problem(s): {', '.join(r.name for r in failed)}" if failed else "All services answer.")
    return 1 if failed else 0

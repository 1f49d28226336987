"""`legion doctor`: checks every configured service and names what is wrong; non-zero exit when any is."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.conf import settings

from apps.core.health import checks_run
from legion_site.readiness import checks_for_mode


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check database, broker, cache, pgvector, spool, providers and the local model")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=doctor)


def doctor(options: dict[str, Any]) -> int:
    results = checks_run(checks_for_mode(local_model_trial=True))
    failed = [r for r in results if not r.ok]
    warned = [r for r in results if r.ok and r.warning]
    if options["json"]:
        print(json.dumps({"mode": settings.LEGION_MODE, "ok": not failed, "checks": [
            {"name": r.name, "ok": r.ok, "warning": r.warning, "detail": r.detail} for r in results]}))
    else:
        print(f"Legion doctor ({settings.LEGION_MODE} mode)")
        for r in results:
            print(f"  {'FAIL' if not r.ok else 'WARN' if r.warning else 'ok  '}  {r.name:<14} {r.detail}")
        print(f"{len(failed)} problem(s): {', '.join(r.name for r in failed)}" if failed else "All services answer.")
        if warned:
            print(f"{len(warned)} warning(s): {', '.join(r.name for r in warned)}")
    return 1 if failed else 0

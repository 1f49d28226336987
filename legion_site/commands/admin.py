"""`legion admin reset-password`: a new password for a login, printed once or read from stdin."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from apps.core.errors import ApplicationError
from apps.rbac.services.bootstrap import ADMIN_USERNAME, user_password_reset


def register(subparsers: argparse._SubParsersAction) -> None:
    admin = subparsers.add_parser("admin", help="the admin's logins")
    commands = admin.add_subparsers(dest="admin_command", required=True, metavar="<admin command>")
    reset = commands.add_parser("reset-password", help="set a new password (generated and printed once, or --stdin)")
    reset.add_argument("--username", default=ADMIN_USERNAME)
    reset.add_argument("--stdin", action="store_true", help="read the new password from standard input")
    reset.set_defaults(handler=admin_password_reset)


def admin_password_reset(options: dict[str, Any]) -> int:
    chosen = sys.stdin.readline().rstrip("\r\n") if options["stdin"] else None
    try:
        password = user_password_reset(username=options["username"], password=chosen)
    except ApplicationError as exc:
        print(f"legion admin: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    if chosen is None:
        print(f"user '{options['username']}', new password '{password}' (shown once; only its hash is kept)")
    else:
        print(f"user '{options['username']}': password changed")
    return 0

"""`legion rbac …`: explain a decision, create principals, issue and revoke API keys, list policies."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.rbac.authorization import authorize
from apps.rbac.checks import action_check, resource_check
from apps.rbac.models import Policy, PrincipalKind
from apps.rbac.selectors import api_key_get, policy_get, principal_get
from apps.rbac.services import api_key_create, api_key_revoke, principal_create
from apps.rbac.validation import ACTIONS

Handler = Callable[[dict[str, Any]], int]
EXIT_ALLOW, EXIT_DENY, EXIT_ERROR = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    rbac = subparsers.add_parser("rbac", help="principals, policies, API keys and access checks")
    commands = rbac.add_subparsers(dest="rbac_command", required=True, metavar="<rbac command>")

    check = commands.add_parser("check", help="may <principal> do <action> on <resource>? (exit 0 allow, 1 deny)")
    check.add_argument("principal")
    check.add_argument("action", help=f"one of {', '.join(ACTIONS)}")
    check.add_argument("resource", help="e.g. tasks/42 or runners/lex-http/request/get")
    check.set_defaults(handler=rbac_check)

    principal = commands.add_parser("principal", help="manage principals")
    principal_commands = principal.add_subparsers(dest="principal_command", required=True, metavar="<command>")
    create = principal_commands.add_parser("create", help="create a user, team or service principal")
    create.add_argument("name")
    create.add_argument("--kind", choices=PrincipalKind.values, default=PrincipalKind.USER)
    create.add_argument("--policy", action="append", default=[], help="attach this policy (repeatable)")
    create.add_argument("--team", action="append", default=[], help="join this team (repeatable)")
    create.add_argument("--description", default="")
    create.set_defaults(handler=rbac_principal_create)

    key = commands.add_parser("key", help="issue and revoke API keys")
    key_commands = key.add_subparsers(dest="key_command", required=True, metavar="<command>")
    key_create = key_commands.add_parser("create", help="issue a key (printed once)")
    key_create.add_argument("principal")
    key_create.add_argument("--name", default="", help="what the key is for")
    key_create.add_argument("--expires-in-days", type=int, default=None, help="expire after this many days")
    key_create.set_defaults(handler=rbac_key_create)
    key_revoke = key_commands.add_parser("revoke", help="revoke a key by its prefix")
    key_revoke.add_argument("prefix")
    key_revoke.set_defaults(handler=rbac_key_revoke)

    policies = commands.add_parser("policies", help="list policies and their rules")
    policies.set_defaults(handler=rbac_policies)


def _reports_errors(handler: Handler) -> Handler:
    """An ApplicationError becomes one line on stderr and exit 2, never a traceback."""

    @wraps(handler)
    def run(options: dict[str, Any]) -> int:
        try:
            return handler(options)
        except ApplicationError as exc:
            field = f" ({exc.field})" if exc.field else ""
            print(f"legion rbac: {exc.code}{field}: {exc.message}", file=sys.stderr)
            return EXIT_ERROR

    return run


@_reports_errors
def rbac_check(options: dict[str, Any]) -> int:
    principal = principal_get(name=options["principal"])
    action, resource = options["action"], options["resource"]
    action_check(action)
    resource_check(resource)
    decision = authorize(principal, action, resource)
    print(f"{'ALLOW' if decision.allowed else 'DENY'} {principal.name} {action} {resource}")
    if decision.rule_kind is None:
        print(f"  reason: {decision.reason}")
    else:
        actions = ", ".join(decision.rule_actions or ())
        print(f"  rule:   {decision.rule_kind} {decision.rule_path} [{actions}] in policy {decision.policy}")
    return EXIT_ALLOW if decision.allowed else EXIT_DENY


@_reports_errors
def rbac_principal_create(options: dict[str, Any]) -> int:
    principal = principal_create(
        name=options["name"], kind=options["kind"], description=options["description"],
        teams=[principal_get(name=name) for name in options["team"]],
        policies=[policy_get(name=name) for name in options["policy"]],
    )
    attached = ", ".join(options["policy"]) or "none (it may do nothing yet)"
    print(f"Created {principal.kind} principal {principal.name}; policies: {attached}")
    return 0


@_reports_errors
def rbac_key_create(options: dict[str, Any]) -> int:
    days = options["expires_in_days"]
    if days is not None and days < 1:
        raise ApplicationError("invalid_expiry", "--expires-in-days must be at least 1", field="expires_in_days")
    expires_at = timezone.now() + timedelta(days=days) if days is not None else None
    api_key, raw_key = api_key_create(principal=principal_get(name=options["principal"]), name=options["name"],
                                      expires_at=expires_at)
    until = f"expires {api_key.expires_at:%Y-%m-%d %H:%M} UTC" if api_key.expires_at else "does not expire"
    print(f"API key {api_key.prefix} for {api_key.principal.name} ({until}):")
    print(raw_key)
    print("Copy it now: it is stored only as a hash and cannot be shown again.")
    return 0


@_reports_errors
def rbac_key_revoke(options: dict[str, Any]) -> int:
    api_key = api_key_revoke(api_key=api_key_get(prefix=options["prefix"]))
    print(f"API key {api_key.prefix} of {api_key.principal.name} revoked at {api_key.revoked_at:%Y-%m-%d %H:%M} UTC")
    return 0


@_reports_errors
def rbac_policies(options: dict[str, Any]) -> int:
    for policy in Policy.objects.order_by("-builtin", "name"):
        print(f"{policy.name}{' (built-in)' if policy.builtin else ''}: {policy.description}")
        for kind, rules in (("allow", policy.rules), ("deny", policy.deny)):
            for rule in rules:
                print(f"  {kind:<5} {rule.get('path')}  [{', '.join(rule.get('actions') or ['*'])}]")
    return 0

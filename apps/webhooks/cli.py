"""`legion webhooks add|list|rotate|sign`: inbound webhooks from the shell (a secret is shown once)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from apps.chains.services.callers import HOST
from apps.chains.targets import target_by_name
from apps.core.errors import ApplicationError
from apps.core.signatures import signature_headers
from apps.webhooks.models import Webhook
from apps.webhooks.services import webhook_create, webhook_rotate_secret, webhook_secret


def register(subparsers: argparse._SubParsersAction) -> None:
    webhooks = subparsers.add_parser("webhooks", help="inbound webhooks that start a chain or a function")
    commands = webhooks.add_subparsers(dest="webhooks_command", required=True, metavar="<command>")
    add = commands.add_parser("add", help="add a webhook; prints its secret once")
    add.add_argument("name")
    add.add_argument("target", help="a function (ext.runner.function) or, with --chain, a chain name")
    add.add_argument("--chain", action="store_true", help="the target is a chain")
    add.add_argument("--as", dest="run_as", default=None, help="principal the runs are authorized as")
    add.add_argument("--transformation", default="", help="CEL over body, headers and query building the payload")
    add.set_defaults(handler=webhooks_add)
    commands.add_parser("list", help="webhooks and their endpoints").set_defaults(handler=webhooks_list)
    rotate = commands.add_parser("rotate", help="give a webhook a new secret (printed once)")
    rotate.add_argument("name")
    rotate.set_defaults(handler=webhooks_rotate)
    sign = commands.add_parser("sign", help="print the signature headers for a body (to test with curl)")
    sign.add_argument("name")
    sign.add_argument("body", help="the exact request body")
    sign.add_argument("--idempotency-key", default="",
                      help="sign and send this key too: every request with it starts one run at most")
    sign.set_defaults(handler=webhooks_sign)


def webhooks_add(options: dict[str, Any]) -> int:
    from apps.rbac.selectors import principal_get

    names = (None, options["target"]) if options["chain"] else (options["target"], None)
    try:
        function, chain = target_by_name(*names)
        webhook, secret = webhook_create(
            by=HOST, name=options["name"], transformation=options["transformation"],
            function=function, chain=chain,
            run_as=principal_get(name=options["run_as"]) if options["run_as"] else None,
        )
    except ApplicationError as exc:
        print(f"legion webhooks add: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(f"webhook {webhook.name}: POST /api/v1/chains/hooks/{webhook.name}/\nsecret (shown once): {secret}")
    return 0


def webhooks_list(options: dict[str, Any]) -> int:
    for webhook in Webhook.objects.select_related("function", "chain", "run_as"):
        target = f"chain {webhook.chain.name}" if webhook.chain else str(webhook.function)
        state = "" if webhook.enabled else " (disabled)"
        print(f"{webhook.name:<24} /api/v1/chains/hooks/{webhook.name}/  -> {target}  as "
              f"{webhook.run_as.name if webhook.run_as else '-'}  received {webhook.received_count}{state}")
    return 0


def webhooks_rotate(options: dict[str, Any]) -> int:
    webhook = _get(options["name"])
    if webhook is None:
        return 1
    print(f"new secret (shown once): {webhook_rotate_secret(by=HOST, webhook=webhook)}")
    return 0


def webhooks_sign(options: dict[str, Any]) -> int:
    webhook = _get(options["name"])
    if webhook is None:
        return 1
    headers = signature_headers(secret=webhook_secret(webhook=webhook), body=options["body"].encode(),
                                idempotency_key=options["idempotency_key"])
    for name, value in headers.items():
        print(f"{name}: {value}")
    return 0


def _get(name: str) -> Webhook | None:
    webhook = Webhook.objects.filter(name=name).first()
    if webhook is None:
        print(f"legion webhooks: no webhook named '{name}'", file=sys.stderr)
    return webhook

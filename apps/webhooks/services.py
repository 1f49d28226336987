"""Webhook writes and the inbound path: create (secret shown once), rotate, and receive a signed request."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from typing import Any, TypedDict, Unpack

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.chains.expressions import ExpressionError, expression_evaluate, expression_variables
from apps.chains.models import Chain, TaskRun
from apps.chains.services.callers import Caller, check_run_as
from apps.chains.targets import check_target, target_run_for_key, target_trigger
from apps.core.crypto import decrypt, encrypt
from apps.core.errors import ApplicationError
from apps.core.signatures import check_signature
from apps.rbac.models import Principal
from apps.runners.models import Function
from apps.webhooks.models import Webhook

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
VARIABLES = {"body", "headers", "query"}
MIN_SECRET_LENGTH = 16
# Credentials of the sender's other systems have no business in a run's payload.
HIDDEN_HEADERS = {"authorization", "cookie", "proxy-authorization"}


def check_webhook(*, name: str, function: Function | None, chain: Chain | None, transformation: str) -> None:
    if not NAME.match(name):
        raise ApplicationError("invalid", "a webhook name is lowercase letters, digits, - and _ (at most 100)",
                               field="name")
    check_target(function=function, chain=chain, payload={})
    if transformation.strip():
        try:
            unknown = expression_variables(transformation) - VARIABLES
        except ExpressionError as exc:
            raise ApplicationError("invalid_transformation", str(exc), field="transformation") from exc
        if unknown:
            raise ApplicationError("invalid_transformation",
                                   f"unknown variable '{sorted(unknown)[0]}' (use body, headers or query)",
                                   field="transformation")


@transaction.atomic
def webhook_create(
    *, by: Caller, name: str, function: Function | None = None, chain: Chain | None = None, transformation: str = "",
    run_as: Principal | None = None, enabled: bool = True, description: str = "",
    replay_window_seconds: int | None = None, secret: str | None = None,
) -> tuple[Webhook, str]:
    """Create a webhook; returns it and its secret, which is stored only encrypted and never shown again.

    `by` must be allowed to act as `run_as` (`check_run_as`): whoever holds the secret starts runs as it.
    """
    check_webhook(name=name, function=function, chain=chain, transformation=transformation)
    check_run_as(by=by, run_as=run_as)
    if Webhook.objects.filter(name=name).exists():
        raise ApplicationError("duplicate", f"a webhook named '{name}' exists", field="name", status=409)
    webhook = Webhook.objects.create(
        name=name, function=function, chain=chain, transformation=transformation, run_as=run_as, enabled=enabled,
        description=description, replay_window_seconds=replay_window_seconds, secret_encrypted="",
    )
    return webhook, _secret_set(webhook, secret)


class WebhookChanges(TypedDict, total=False):
    """What an update may change in a webhook (its secret changes by rotation only)."""

    name: str
    function: Function | None
    chain: Chain | None
    transformation: str
    run_as: Principal | None
    enabled: bool
    description: str
    replay_window_seconds: int | None


@transaction.atomic
def webhook_update(*, by: Caller, webhook: Webhook, **changes: Unpack[WebhookChanges]) -> Webhook:
    """Apply `changes` and check the webhook as it then is; `by` must be allowed to act as `run_as`, changed or not
    (it decides what runs as it)."""
    for attribute, value in changes.items():
        setattr(webhook, attribute, value)
    check_webhook(name=webhook.name, function=webhook.function, chain=webhook.chain,
                  transformation=webhook.transformation)
    check_run_as(by=by, run_as=webhook.run_as)
    if Webhook.objects.filter(name=webhook.name).exclude(pk=webhook.pk).exists():
        raise ApplicationError("duplicate", f"a webhook named '{webhook.name}' exists", field="name", status=409)
    webhook.save()
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    """The endpoint stops answering (404); runs it started stay."""
    webhook.delete()


def webhook_rotate_secret(*, by: Caller, webhook: Webhook, secret: str | None = None) -> str:
    """Set a new secret (given, or 32 random bytes); the old one stops verifying at once.

    The new secret fires the webhook with any body: `by` must be allowed to act as its `run_as`.
    """
    check_run_as(by=by, run_as=webhook.run_as)
    return _secret_set(webhook, secret)


def _secret_set(webhook: Webhook, secret: str | None) -> str:
    secret = secret or secrets.token_urlsafe(32)
    if len(secret) < MIN_SECRET_LENGTH:
        raise ApplicationError("weak_secret", f"a webhook secret has at least {MIN_SECRET_LENGTH} characters",
                               field="secret")
    webhook.secret_encrypted = encrypt(secret, context=_context(webhook))
    webhook.save(update_fields=["secret_encrypted", "updated_at"])
    return secret


def webhook_secret(*, webhook: Webhook) -> str:
    """The plaintext secret, for verifying (the ciphertext only decrypts for this row)."""
    return decrypt(webhook.secret_encrypted, context=_context(webhook)).decode()


def webhook_receive(
    *, name: str, headers: Mapping[str, str], body: bytes, query: Mapping[str, str]
) -> tuple[TaskRun, bool]:
    """Verify a signed request and start the webhook's target; returns the run and whether it was a replay.

    Order matters: nothing about the webhook (enabled, what it runs) is revealed before the signature
    verifies. The run's idempotency key is derived from what identifies the verified request (its
    signed idempotency key, else its signature), so a retried or replayed request (within the window)
    returns the run the first one started.
    """
    webhook = Webhook.objects.select_related("function", "chain", "run_as").filter(name=name).first()
    if webhook is None:
        raise ApplicationError("not_found", f"no webhook '{name}'", status=404)
    limit = settings.CONFIG["chains.max_payload_bytes"]
    if len(body) > limit:
        raise ApplicationError("payload_too_large", f"the body is over {limit} bytes", status=413)
    window = webhook.replay_window_seconds or settings.CONFIG["webhooks.replay_window_seconds"]
    identity = check_signature(secret=webhook_secret(webhook=webhook), headers=headers, body=body,
                               window_seconds=window)
    if not webhook.enabled:
        raise ApplicationError("webhook_disabled", f"webhook '{name}' is disabled", status=409)
    payload = _payload(webhook, body, headers, query)
    key = f"webhook:{webhook.pk}:{identity}"
    replayed = target_run_for_key(function=webhook.function, chain=webhook.chain, idempotency_key=key,
                                  principal=webhook.run_as.name if webhook.run_as else "") is not None
    run = target_trigger(function=webhook.function, chain=webhook.chain, payload=payload, principal=webhook.run_as,
                         triggered_by="webhook", idempotency_key=key)
    if not replayed:
        Webhook.objects.filter(pk=webhook.pk).update(received_count=F("received_count") + 1,
                                                     last_received_at=timezone.now())
    return run, replayed


def _payload(webhook: Webhook, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    try:
        value = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApplicationError("not_json", f"the body is not JSON: {exc}", field="body") from exc
    if not webhook.transformation.strip():
        if not isinstance(value, dict):
            raise ApplicationError("invalid", "the body must be a JSON object (or give the webhook a transformation)",
                                   field="body")
        return value
    variables = {"body": value, "query": dict(query),
                 "headers": {k.lower(): v for k, v in headers.items() if k.lower() not in HIDDEN_HEADERS}}
    try:
        shaped = expression_evaluate(webhook.transformation, variables)
    except ExpressionError as exc:
        raise ApplicationError("transformation_error", str(exc), field="transformation", status=422) from exc
    if not isinstance(shaped, dict):
        raise ApplicationError("transformation_error", f"the transformation built {type(shaped).__name__}, "
                               "not an object", field="transformation", status=422)
    return shaped


def _context(webhook: Webhook) -> bytes:
    # Binds the ciphertext to this row: copied into another webhook it does not decrypt.
    return f"chains.webhook:{webhook.pk}".encode()

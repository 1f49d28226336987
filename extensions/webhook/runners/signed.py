"""Signed webhooks out: the body is the payload as JSON, signed as `apps.core.signatures` says."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from apps.runners.sdk import PermanentError, RunContext, extension_settings, runner_function, signature_headers
from extensions.http.client import HttpResponse, Limits, Outgoing, check_status, exchange

TRIGGER_WORDS = ("send", "post", "notify", "callback")

KeyName = Annotated[str, Field(min_length=1, max_length=100)]


class UnknownKeyError(PermanentError):
    code = "unknown_key"


class WebhookRejectedError(PermanentError):
    code = "webhook_rejected"


@runner_function(idempotent=False, risk_tier="high", trigger_words=("send", "post", "notify"),
                 max_attempts=3, backoff_seconds=2.0)
def send(
    url: Annotated[str, Field(min_length=1, max_length=8192)],
    key: KeyName,
    payload: Any,
    ctx: RunContext,
) -> HttpResponse:
    """POST `payload` as JSON to `url`, signed with the secret named `key` in `extensions.webhook.keys`.

    A 2xx answer succeeds; 4xx fails the run (the receiver refused it); 5xx, 408, 429 and network errors
    are retried, each attempt signed afresh and carrying the run's idempotency key, signed too, in
    `X-Legion-Idempotency-Key`: a receiver that deduplicates on it sees one delivery.
    """
    configured = extension_settings("webhook")
    keys: dict[str, str] = configured["keys"] or {}
    if key not in keys:
        raise UnknownKeyError(f"no signing key '{key}' in extensions.webhook.keys (known: {sorted(keys) or 'none'})")
    body = json.dumps(payload, separators=(",", ":")).encode()
    # The run's idempotency key, the same on every attempt and signed with the body: a receiver (Legion's
    # own inbound webhooks among them) recognises a retry although its timestamp and signature are new.
    headers = {**signature_headers(secret=keys[key], body=body, idempotency_key=ctx.idempotency_key),
               "Content-Type": "application/json"}
    http = extension_settings("http")
    limits = Limits(timeout=configured["timeout_ms"] / 1000, max_bytes=http["max_response_bytes"], max_redirects=0)
    answer = exchange(Outgoing("POST", url, headers, {}, body), limits=limits, authorize=ctx.authorize,
                      follow_redirects=False, ca_file=http["ca_file"])
    ctx.log(f"webhook to {answer['url']} signed with '{key}' -> {answer['status']}")
    check_status(answer, refused_from=300, refused=WebhookRejectedError)  # redirects are not followed: refused
    return answer

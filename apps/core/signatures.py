"""Webhook signatures (the inbound webhooks app verifies them, the outbound webhook extension signs):
HMAC-SHA256 over `<timestamp>.<raw body>`, in two headers.

    X-Legion-Timestamp: 1767225600
    X-Legion-Signature: sha256=<hex of HMAC-SHA256(secret, "1767225600." + body)>

The timestamp is signed with the body and must be within the replay window of the receiver's clock,
so a captured request cannot be replayed later; within the window a replay starts nothing new (its
signature identifies it). Comparison is constant-time.

A sender that retries (each attempt signed afresh, so with a new signature) adds
`X-Legion-Idempotency-Key`, the same on every attempt; the key is then signed too, between the
timestamp and the body (`"1767225600." + key + "." + body`), and identifies the request instead.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from apps.core.errors import ApplicationError

TIMESTAMP_HEADER = "X-Legion-Timestamp"
SIGNATURE_HEADER = "X-Legion-Signature"
IDEMPOTENCY_HEADER = "X-Legion-Idempotency-Key"
SCHEME = "sha256="


def signature_compute(*, secret: str, timestamp: str, body: bytes, idempotency_key: str = "") -> str:
    signed = timestamp.encode() + b"." + (idempotency_key.encode() + b"." if idempotency_key else b"") + body
    return SCHEME + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_headers(*, secret: str, body: bytes, timestamp: int | None = None,
                      idempotency_key: str = "") -> dict[str, str]:
    """The headers a sender adds (the webhook extension, `legion webhooks sign`, tests)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = signature_compute(secret=secret, timestamp=stamp, body=body, idempotency_key=idempotency_key)
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature}
    if idempotency_key:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    return headers


def check_signature(*, secret: str, headers: Mapping[str, str], body: bytes, window_seconds: int,
                    now: float | None = None) -> str:
    """Verify the request and return what identifies it: its signed idempotency key if it sent one, else its
    signature. Raises 401 `signature_missing`, `signature_expired` or `invalid_signature`."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    idempotency_key = headers.get(IDEMPOTENCY_HEADER, "")
    if not timestamp or not signature:
        raise ApplicationError("signature_missing", f"sign the request: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}",
                               status=401)
    try:
        stamp = int(timestamp)
    except ValueError:
        raise ApplicationError("signature_expired", f"{TIMESTAMP_HEADER} is not a Unix time", status=401) from None
    current = time.time() if now is None else now
    if abs(current - stamp) > window_seconds:
        raise ApplicationError("signature_expired", f"the request was signed more than {window_seconds}s from now",
                               status=401)
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body, idempotency_key=idempotency_key)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise ApplicationError("invalid_signature", "the signature does not match the body", status=401)
    if idempotency_key:
        return "key-" + hashlib.sha256(idempotency_key.encode()).hexdigest()
    return expected.removeprefix(SCHEME)

"""Who is calling: API keys checked against RBAC through an in-process cache, not a database hit per request.

A verified key is kept as a `Caller` (its principal and effective policies) for `proxy.auth_cache_seconds`.
Any RBAC change (a key revoked, a policy edited, a principal disabled) bumps a version every process can read
(`apps/rbac/signals.py`: Redis in full mode, a file under LEGION_HOME in lite); each proxy process reads it
at most once per VERSION_POLL_SECONDS and forgets every cached key when it moved. So a revocation takes
effect everywhere within about a second, and a hit costs one dictionary lookup.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings

from apps.core.errors import ApplicationError
from apps.rbac.keys import looks_like_key
from apps.rbac.selectors import principal_policy_data
from apps.rbac.services import api_key_verify
from apps.rbac.signals import rbac_version_aget
from proxy.errors import ErrorKind, ProxyError
from proxy.types import Caller

VERSION_POLL_SECONDS = 1.0
ANONYMOUS = Caller()


@dataclass(frozen=True, slots=True)
class _Entry:
    caller: Caller
    loaded_at: float
    expires_at: float | None  # the key's own expiry, checked on every hit


class KeyCache:
    """Verified keys by the SHA-256 of the presented key (the key itself is not kept)."""

    def __init__(self, *, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, _Entry] = {}
        self._version: object = None
        self._version_read_at = 0.0

    async def caller(self, key: str) -> Caller:
        await self._version_check()
        digest = hashlib.sha256(key.encode()).hexdigest()
        now = time.time()
        entry = self._entries.get(digest)
        if entry and now - entry.loaded_at < self.ttl and (entry.expires_at is None or now < entry.expires_at):
            return entry.caller
        caller, expires_at = await database_sync_to_async(_caller_load)(key)
        self._entries[digest] = _Entry(caller, now, expires_at)
        return caller

    async def _version_check(self) -> None:
        now = time.monotonic()
        if now - self._version_read_at < VERSION_POLL_SECONDS:
            return
        self._version_read_at = now
        version = await rbac_version_aget()
        if version != self._version:
            self._version = version
            self._entries.clear()


def _caller_load(key: str) -> tuple[Caller, float | None]:
    """The database round trip behind a cache miss: verify the key, snapshot its principal's policies."""
    try:
        api_key = api_key_verify(raw_key=key)
    except ApplicationError as exc:
        raise ProxyError(ErrorKind.UNAUTHORIZED, f"{exc.message} ({exc.code})") from exc
    principal = api_key.principal
    caller = Caller(key_id=api_key.prefix, principal=principal.name,
                    policies=principal_policy_data(principal=principal))
    return caller, api_key.expires_at.timestamp() if api_key.expires_at else None


_keys: KeyCache | None = None


def key_cache() -> KeyCache:
    global _keys
    if _keys is None:
        _keys = KeyCache(ttl_seconds=settings.CONFIG["proxy.auth_cache_seconds"])
    return _keys


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key as either SDK sends it: `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic)."""
    authorization = headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return headers.get("x-api-key") or None


async def caller_authenticate(headers: Mapping[str, str]) -> Caller:
    """The caller behind a request, or ProxyError(UNAUTHORIZED).

    With `proxy.allow_anonymous` (lite mode's default: a laptop's own proxy) a request without a Legion
    key is served anonymously, so SDKs configured with any placeholder key just work; a Legion key
    (`lgn_…`) is always verified, so a revoked one never slips through as anonymous.
    """
    key = presented_key(headers)
    if key is not None and looks_like_key(key):
        return await key_cache().caller(key)
    if settings.CONFIG["proxy.allow_anonymous"]:
        return ANONYMOUS
    raise ProxyError(ErrorKind.UNAUTHORIZED, "a Legion API key is required (Authorization: Bearer lgn_… or x-api-key)")

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings

from apps.core.errors import ApplicationError
from apps.rbac.builtin import ANONYMOUS
from apps.rbac.selectors import principal_anonymous, principal_may_act, principal_policy_data
from apps.rbac.services import api_key_verify
from apps.rbac.signals import rbac_version_aget
from proxy.callers import Caller
from proxy.errors import ErrorKind, ProxyError

VERSION_POLL_SECONDS = 1.0
_ANONYMOUS_ENTRY = ""  # no SHA-256 digest is empty


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
        return await self._cached(hashlib.sha256(key.encode()).hexdigest(), lambda: _caller_load(key))

    async def anonymous(self) -> Caller:
        """The `anonymous` principal's caller, cached and refreshed like a key's."""
        return await self._cached(_ANONYMOUS_ENTRY, _anonymous_load)

    async def _cached(self, entry_key: str, load: Callable[[], tuple[Caller, float | None]]) -> Caller:
        await self._version_check()
        now = time.time()
        entry = self._entries.get(entry_key)
        if entry and now - entry.loaded_at < self.ttl and (entry.expires_at is None or now < entry.expires_at):
            return entry.caller
        caller, expires_at = await database_sync_to_async(load)()
        self._entries[entry_key] = _Entry(caller, now, expires_at)
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


def _anonymous_load() -> tuple[Caller, None]:
    """The anonymous principal's policies; none (so no model) when it is missing or deactivated."""
    principal = principal_anonymous()
    if principal is None or not principal_may_act(principal):
        return Caller(principal=ANONYMOUS), None
    return Caller(principal=ANONYMOUS, policies=principal_policy_data(principal=principal)), None


_keys: KeyCache | None = None


def key_cache() -> KeyCache:
    global _keys
    if _keys is None:
        _keys = KeyCache(ttl_seconds=settings.CONFIG["proxy.auth_cache_seconds"])
    return _keys


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The credential as either SDK sends it: `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic).

    A header that holds no usable key (another scheme, an empty value) is still a credential, returned as
    it is so that verifying it fails: None means the request carries no credential at all.
    """
    if "authorization" in headers:
        authorization = headers["authorization"]
        return authorization[7:].strip() if authorization[:7].lower() == "bearer " else authorization
    return headers.get("x-api-key")


async def caller_authenticate(headers: Mapping[str, str]) -> Caller:
    """The caller behind a request, or ProxyError(UNAUTHORIZED).

    A request that presents a credential is served only if it is a valid Legion key, never anonymously.
    With `proxy.allow_anonymous` (lite mode's default: a laptop's own proxy) a request that presents none
    acts as the built-in `anonymous` principal, governed by its policies like any other.
    """
    key = presented_key(headers)
    if key is not None:
        return await key_cache().caller(key)
    if settings.CONFIG["proxy.allow_anonymous"]:
        return await key_cache().anonymous()
    raise ProxyError(ErrorKind.UNAUTHORIZED, "a Legion API key is required (Authorization: Bearer lgn_… or x-api-key)")

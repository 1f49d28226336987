"""API key writes: create (the raw key is returned once), revoke, and authenticate a presented key."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.rbac.keys import key_generate, key_parse, secret_matches
from apps.rbac.models import ApiKey, Principal, PrincipalKind
from apps.rbac.selectors import principal_is_anonymous, principal_may_act
from apps.rbac.services.grants import impersonate_check
from apps.rbac.signals import rbac_version_bump

# last_used_at is a hint for humans, not an audit log: writing it on every request would turn each
# authenticated read into a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_create(*, principal: Principal, name: str = "", expires_at: datetime | None = None,
                   actor: Principal | None = None) -> tuple[ApiKey, str]:
    """Issue a key for `principal`; returns the row and the raw key, which is never retrievable again.

    A key acts as its principal, so issuing one for another principal needs `impersonate` on it
    (`permission_denied`, 403). Raises what `api_key_create_check` raises.
    """
    api_key_create_check(principal=principal, expires_at=expires_at)
    impersonate_check(actor=actor, principal=principal)
    # A prefix collision is a 1-in-2.8e12 event per existing key; retry rather than fail.
    for _attempt in range(5):
        material = key_generate()
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(principal=principal, name=name, prefix=material.prefix,
                                                secret_hash=material.secret_hash, expires_at=expires_at)
        except IntegrityError:
            continue
        return api_key, material.raw
    raise RuntimeError("could not find a free API key prefix")


def api_key_create_check(*, principal: Principal, expires_at: datetime | None) -> None:
    """Teams hold no keys (`invalid_principal`: a key acts as one actor; give the team a service
    account), nor does `anonymous` (it is who acts without one); an expiry must lie ahead (`invalid_expiry`)."""
    if principal.kind == PrincipalKind.TEAM:
        raise ApplicationError("invalid_principal", "teams cannot hold API keys; use a service principal",
                               field="principal")
    if principal_is_anonymous(principal):
        raise ApplicationError("invalid_principal", "the anonymous principal holds no API keys", field="principal")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError("invalid_expiry", "expires_at must be in the future", field="expires_at")


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key for good (idempotent: a revoked key keeps its first revocation time).

    The UPDATE sends no model signal, so the change is announced here for the caches that hold the key.
    """
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    rbac_version_bump()
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def api_key_verify(*, raw_key: str) -> ApiKey:
    """The usable key behind `raw_key`, its principal loaded; raises ApplicationError (401) otherwise.

    Codes: `invalid_api_key` (malformed, unknown or wrong secret), `api_key_revoked`, `api_key_expired`,
    `principal_inactive`. The secret is checked first, so a key's state is only told to its holder.
    """
    material = key_parse(raw_key)
    api_key = None
    if material is not None:
        api_key = ApiKey.objects.select_related("principal__user").filter(prefix=material.prefix).first()
    if material is None or not secret_matches(material.secret, api_key.secret_hash if api_key else None):
        raise ApplicationError("invalid_api_key", "The API key is not valid", status=401)
    assert api_key is not None
    now = timezone.now()
    if api_key.revoked_at is not None:
        raise ApplicationError("api_key_revoked", f"API key {api_key.prefix} was revoked", status=401)
    if api_key.is_expired(now):
        raise ApplicationError("api_key_expired", f"API key {api_key.prefix} has expired", status=401)
    if not principal_may_act(api_key.principal):
        raise ApplicationError("principal_inactive", f"Principal {api_key.principal.name!r} is inactive", status=401)
    _last_used_touch(api_key, now)
    return api_key


def api_key_authenticate(*, raw_key: str) -> Principal:
    """The principal a presented key acts as; same errors as `api_key_verify`."""
    return api_key_verify(raw_key=raw_key).principal


def _last_used_touch(api_key: ApiKey, now: datetime) -> None:
    """Record use at most once per LAST_USED_RESOLUTION per key; the filtered UPDATE keeps concurrent
    requests from writing more than that."""
    stale = now - LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at > stale:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)).update(
        last_used_at=now)
    api_key.last_used_at = now

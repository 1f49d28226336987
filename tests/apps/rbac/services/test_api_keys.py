"""API key services: shown once, stored hashed, expiry, revocation, and a last-used time that is not a
write per request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from apps.core.errors import ApplicationError
from apps.rbac.keys import secret_hash
from apps.rbac.models import ApiKey
from apps.rbac.services import api_key_authenticate, api_key_create, api_key_revoke
from tests.apps.rbac.factories import PrincipalFactory, ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_the_raw_key_is_returned_once_and_stored_only_as_a_hash() -> None:
    api_key, raw = api_key_create(principal=ServiceFactory(), name="ci")
    stored = ApiKey.objects.get(pk=api_key.pk)

    assert raw.startswith(f"lgn_{stored.prefix}_")
    assert stored.secret_hash == secret_hash(raw.split("_", 2)[2])
    assert all(raw not in str(value) for value in ApiKey.objects.filter(pk=api_key.pk).values().get().values())


def test_authenticate_returns_the_principal() -> None:
    principal = ServiceFactory()
    _, raw = api_key_create(principal=principal)

    assert api_key_authenticate(raw_key=raw) == principal


@pytest.mark.parametrize(("mangle", "code"), [
    (lambda raw: raw[:-1] + ("x" if raw[-1] != "x" else "y"), "invalid_api_key"),
    (lambda raw: "lgn_zzzzzzzz_" + raw.split("_", 2)[2], "invalid_api_key"),
    (lambda raw: "not a key", "invalid_api_key"),
])
def test_authenticate_rejects_wrong_keys(mangle: Callable[[str], str], code: str) -> None:
    _, raw = api_key_create(principal=ServiceFactory())

    with pytest.raises(ApplicationError) as caught:
        api_key_authenticate(raw_key=mangle(raw))

    assert (caught.value.code, caught.value.status) == (code, 401)


def test_expired_and_revoked_keys_are_refused() -> None:
    principal = ServiceFactory()
    expired, expired_raw = api_key_create(principal=principal, expires_at=timezone.now() + timedelta(hours=1))
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_raw = api_key_create(principal=principal)
    api_key_revoke(api_key=revoked)

    codes = []
    for raw in (expired_raw, revoked_raw):
        with pytest.raises(ApplicationError) as caught:
            api_key_authenticate(raw_key=raw)
        codes.append(caught.value.code)

    assert codes == ["api_key_expired", "api_key_revoked"]


def test_revoke_is_idempotent() -> None:
    api_key, _ = api_key_create(principal=ServiceFactory())
    first = api_key_revoke(api_key=api_key).revoked_at

    assert api_key_revoke(api_key=api_key).revoked_at == first is not None


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"expires_at": "PAST"}, "invalid_expiry"),
    ({"principal": "TEAM"}, "invalid_principal"),
])
def test_create_rejects(kwargs: dict, code: str) -> None:
    principal = TeamFactory() if kwargs.pop("principal", None) else PrincipalFactory()
    if kwargs.get("expires_at") == "PAST":
        kwargs["expires_at"] = timezone.now() - timedelta(minutes=1)

    with pytest.raises(ApplicationError) as caught:
        api_key_create(principal=principal, **kwargs)

    assert caught.value.code == code


def test_last_used_is_written_at_most_once_a_minute(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    api_key, raw = api_key_create(principal=ServiceFactory())

    with django_assert_num_queries(2):  # read the key, stamp last_used_at
        api_key_authenticate(raw_key=raw)
    with django_assert_num_queries(1):  # read only: stamped less than a minute ago
        api_key_authenticate(raw_key=raw)

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    with django_assert_num_queries(2):
        api_key_authenticate(raw_key=raw)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > timezone.now() - timedelta(seconds=10)

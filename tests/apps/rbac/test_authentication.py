"""Authenticators and `request_principal`: who a request acts as, for key, session and plain Django requests."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from rest_framework.request import Request

from apps.rbac.authentication import (
    ApiKeyAuthentication,
    PrincipalSessionAuthentication,
    PrincipalUser,
    request_principal,
)
from apps.rbac.models import ApiKey
from tests.apps.rbac.conftest import IssueKey
from tests.apps.rbac.factories import PrincipalFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def drf_request(**headers: str) -> Request:
    return Request(RequestFactory().get("/api/v1/rbac/me/", headers=headers),
                   authenticators=[ApiKeyAuthentication(), PrincipalSessionAuthentication()])


def test_a_key_of_a_service_principal_authenticates_as_a_stand_in_user(issue_key: IssueKey) -> None:
    service = ServiceFactory(name="svc-x")
    request = drf_request(Authorization=f"Bearer {issue_key(service)}")

    assert request_principal(request) == service
    assert isinstance(request.user, PrincipalUser) and request.user.is_authenticated
    assert (request.user.get_username(), request.user.is_staff, request.user.has_perm("rbac.add_policy")) == (
        "svc-x", False, False)
    assert isinstance(request.auth, ApiKey)


def test_a_key_of_a_user_principal_authenticates_as_its_login(issue_key: IssueKey) -> None:
    user = UserFactory()
    request = drf_request(Authorization=f"Bearer {issue_key(PrincipalFactory(user=user))}")

    assert request.user == user


def test_no_header_means_no_principal() -> None:
    request = drf_request()

    assert request_principal(request) is None


def test_a_plain_django_request_resolves_the_logged_in_users_principal() -> None:
    http = RequestFactory().get("/admin/")
    http.user = UserFactory(username="eve")

    principal = request_principal(http)

    assert principal is not None and principal.name == "eve"
    assert request_principal(http) is principal  # remembered on the request


def test_an_anonymous_django_request_has_no_principal() -> None:
    http = RequestFactory().get("/admin/")
    http.user = AnonymousUser()

    assert request_principal(http) is None

"""DRF authentication by API key (`Authorization: Bearer lgn_…`) or session, each resolving the principal.

Views ask `request_principal(request)` for who is acting; `request.user` stays a Django user (or, for
a service principal without a login, a `PrincipalUser` stand-in) so generic DRF code keeps working.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.request import Request

from apps.core.errors import ApplicationError
from apps.rbac.authorization import principal_for_user
from apps.rbac.keys import looks_like_key
from apps.rbac.models import ApiKey, Principal
from apps.rbac.services import api_key_verify

# DRF imports this module (and permissions.py) while `rest_framework.views` is still half-loaded (its
# schema defaults read DEFAULT_AUTHENTICATION_CLASSES at import time), so nothing imported here may
# import `rest_framework.views`, `generics` or `apps.core.api.errors`.

# Stored on the Django HttpRequest, which the DRF Request wraps, so both layers see the same principal.
PRINCIPAL_ATTRIBUTE = "legion_principal"


class PrincipalUser:
    """`request.user` for a principal without a Django login (service accounts): authenticated, no staff
    or model permissions; authorization goes through `authorize()`, never through `has_perm`."""

    pk = None
    id = None
    is_staff = False
    is_superuser = False
    is_authenticated = True
    is_anonymous = False

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.username = principal.name
        self.is_active = principal.is_active

    def __str__(self) -> str:
        return self.username

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_module_perms(self, app_label: str) -> bool:
        return False


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer lgn_<prefix>_<secret>`. Other bearer tokens are left to other authenticators."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != self.keyword.lower().encode():
            return None
        token = parts[1].decode("latin-1")
        if not looks_like_key(token):
            return None
        try:
            api_key = api_key_verify(raw_key=token)
        except ApplicationError as exc:
            # AuthenticationFailed keeps our code (invalid_api_key, api_key_expired, …) and lets DRF add
            # the WWW-Authenticate header that makes the answer a 401.
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc
        principal = api_key.principal
        request_principal_set(request, principal)
        return (principal.user or PrincipalUser(principal), api_key)

    def authenticate_header(self, request: Request) -> str:
        # Without a challenge DRF would answer unauthenticated requests with 403 instead of 401.
        return self.keyword


class PrincipalSessionAuthentication(SessionAuthentication):
    """Django session login (browsable API, admin users), CSRF-checked, resolving the user's principal."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        request_principal_set(request, principal_for_user(result[0]))
        return result


def request_principal_set(request: HttpRequest | Request, principal: Principal) -> None:
    """For authenticators added later (e.g. service JWTs): record who the request acts as."""
    target = request._request if isinstance(request, Request) else request
    setattr(target, PRINCIPAL_ATTRIBUTE, principal)


def request_principal(request: HttpRequest | Request) -> Principal | None:
    """The principal a request acts as, or None when unauthenticated.

    On a DRF request this runs authentication if it has not run yet; on a plain Django request (admin)
    it resolves the logged-in user's principal, creating it on first use.
    """
    if isinstance(request, Request):
        if request.successful_authenticator is None:  # authenticates on first access
            return None
        return getattr(request._request, PRINCIPAL_ATTRIBUTE, None)
    principal: Principal | None = getattr(request, PRINCIPAL_ATTRIBUTE, None)
    if principal is not None:
        return principal
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    principal = principal_for_user(user)
    request_principal_set(request, principal)
    return principal

"""RBAC in the Django admin: Django's model permissions still apply, and object-level steps and admin
actions are also checked with `authorize()` for the acting user's principal (superusers hold admin).

Other apps' admins can reuse `RbacAdminMixin` (set `rbac_collection`) and `admin_authorized`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from apps.core.errors import ApplicationError
from apps.rbac.authentication import request_principal
from apps.rbac.authorization import authorize
from apps.rbac.models import Principal


def admin_authorized(request: HttpRequest, action: str, resource: str, *, report: bool = False) -> bool:
    """Whether the admin user's principal may do `action` on `resource`; with `report`, say why not."""
    decision = authorize(request_principal(request), action, resource)
    if not decision.allowed and report:
        messages.error(request, f"{action} on {resource} denied: {decision.reason}")
    return decision.allowed


def admin_authorize_or_403(request: HttpRequest, action: str, resource: str) -> None:
    decision = authorize(request_principal(request), action, resource)
    if not decision.allowed:
        raise PermissionDenied(f"{action} on {resource} denied: {decision.reason}")


def admin_actor(request: HttpRequest) -> Principal:
    """The principal an admin page acts as, passed to services as `actor` so they apply their own checks."""
    principal = request_principal(request)
    if principal is None:
        raise PermissionDenied("no principal")
    return principal


@contextmanager
def admin_refusals() -> Iterator[None]:
    """A service's refusal (403: not allowed, 409: not possible) becomes the admin's 403 page naming it."""
    try:
        yield
    except ApplicationError as exc:
        if exc.status not in (403, 409):
            raise
        raise PermissionDenied(f"{exc.code}: {exc.message}") from exc


class RbacAdminMixin:
    """Adds `authorize()` to a ModelAdmin's permission checks for `<rbac_collection>/<name>` resources.

    Without an object (changelist, index, "add" button) every check needs `list` on the collection:
    the admin is a window onto the collection. With an object, the check is the action itself on the
    object's resource. Adding is checked in `save_model`, once the new item's name is known.
    """

    rbac_collection = ""

    def rbac_resource(self, obj: Any = None) -> str:
        return self.rbac_collection if obj is None else f"{self.rbac_collection}/{self.rbac_name(obj)}"

    def rbac_name(self, obj: Any) -> str:
        return str(obj.name)

    def rbac_allows(self, request: HttpRequest, action: str, obj: Any = None) -> bool:
        if obj is None:
            return admin_authorized(request, "list", self.rbac_collection)
        return admin_authorized(request, action, self.rbac_resource(obj))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(super().has_view_permission(request, obj)  # type: ignore[misc]
                    and self.rbac_allows(request, "read", obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(super().has_add_permission(request)  # type: ignore[misc]
                    and self.rbac_allows(request, "create"))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(super().has_change_permission(request, obj)  # type: ignore[misc]
                    and self.rbac_allows(request, "update", obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(super().has_delete_permission(request, obj)  # type: ignore[misc]
                    and self.rbac_allows(request, "delete", obj))

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            admin_authorize_or_403(request, "create", self.rbac_resource(obj))
        super().save_model(request, obj, form, change)  # type: ignore[misc]

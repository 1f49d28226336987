"""DRF permissions: every API view is authorized through `authorize()` on the resource it declares.

A view declares `rbac_resource = "system/config"` or `get_rbac_resource(request, obj=None)`; the action
comes from the HTTP method (GET is `list` on a viewset's list route or a ListAPIView, `read` elsewhere)
unless the view or a viewset `@action(..., rbac_action="delete")` sets `rbac_action`. A view that declares no resource
is a programming error, reported loudly rather than left open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.rbac.authentication import request_principal
from apps.rbac.authorization import authorize
from apps.rbac.globs import resource_join
from apps.rbac.models import Principal

if TYPE_CHECKING:  # see the import note in authentication.py
    from rest_framework.views import APIView

METHOD_ACTIONS = {
    "GET": "read", "HEAD": "read", "OPTIONS": "read",
    "POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete",
}


class PrincipalAuthenticated(BasePermission):
    """Any authenticated principal (for views about the caller itself, like `me`); 401 otherwise."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        principal_required(request)
        return True


class PolicyPermission(BasePermission):
    """401 `not_authenticated` without a principal; 403 `permission_denied` naming action, resource and
    reason when `authorize()` says no."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        principal = principal_required(request)
        _authorize_or_403(principal, view, rbac_action(request, view), rbac_resource(request, view))
        return True

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        # Views whose resource is already named by the URL resolve to the same string here; only views
        # that learn more from the object (a task's runner, say) cost a second decision.
        _authorize_or_403(principal_required(request), view, rbac_action(request, view),
                          rbac_resource(request, view, obj))
        return True


def principal_required(request: Request) -> Principal:
    principal = request_principal(request)
    if principal is None:
        raise exceptions.NotAuthenticated()
    return principal


def rbac_action(request: Request, view: APIView) -> str:
    declared = getattr(view, "rbac_action", None)
    if declared:
        return str(declared)
    action = METHOD_ACTIONS.get(request.method or "", "manage")
    if action == "read" and _lists(view):
        return "list"
    return action


def _lists(view: APIView) -> bool:
    """A viewset on its list route, or a generic list view (which has no `action`)."""
    route = getattr(view, "action", None)
    return route == "list" or (route is None and isinstance(view, ListModelMixin))


def rbac_resource(request: Request, view: APIView, obj: Any = None) -> str:
    getter = getattr(view, "get_rbac_resource", None)
    resource = getter(request, obj) if getter is not None else getattr(view, "rbac_resource", None)
    if not resource:
        raise ImproperlyConfigured(f"{type(view).__name__} declares neither rbac_resource nor get_rbac_resource")
    return str(resource)


def _authorize_or_403(principal: Principal, view: APIView, action: str, resource: str) -> None:
    checked: set[tuple[str, str]] = view.__dict__.setdefault("_rbac_allowed", set())
    if (action, resource) in checked:
        return
    decision = authorize(principal, action, resource)
    if not decision.allowed:
        raise exceptions.PermissionDenied(f"{action} on {resource} denied: {decision.reason}",
                                          code="permission_denied")
    checked.add((action, resource))


class RbacCollectionMixin:
    """For viewsets over a named collection: items are `<rbac_collection>/<lookup>`.

    Lists are authorized on the collection itself; a create on `<collection>/<value of
    rbac_create_field>` (the name the new item will have), or on the collection when the item's name is
    not known before it exists (`rbac_create_field = None`).
    """

    rbac_collection = ""
    rbac_create_field: str | None = "name"
    rbac_action: str | None = None
    kwargs: dict[str, Any]
    lookup_field: str
    lookup_url_kwarg: str | None

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if lookup is not None:
            return resource_join(self.rbac_collection, lookup)
        if request.method == "POST" and self.rbac_create_field:
            data = request.data if isinstance(request.data, Mapping) else {}
            return resource_join(self.rbac_collection, data.get(self.rbac_create_field))
        return self.rbac_collection

"""PolicyPermission's mapping from HTTP method and view to action and resource."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from rest_framework.generics import ListAPIView, ListCreateAPIView
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.rbac.permissions import rbac_action, rbac_resource


class ListView(APIView):
    action = "list"
    rbac_resource = "tasks"


class GenericListView(ListAPIView):
    rbac_resource = "tasks"


class ListCreateView(ListCreateAPIView):
    rbac_resource = "tasks"


class ItemView(APIView):
    def get_rbac_resource(self, request: Request, obj: object = None) -> str:
        return "tasks/7" if obj is None else f"tasks/7/{obj}"


class ManageView(APIView):
    rbac_action = "manage"
    rbac_resource = "system/cache"


class UndeclaredView(APIView):
    pass


def request(method: str) -> Request:
    return Request(getattr(RequestFactory(), method.lower())("/x"))


@pytest.mark.parametrize(("method", "view", "expected"), [
    ("GET", ListView(), "list"),
    ("GET", GenericListView(), "list"),
    ("POST", ListCreateView(), "create"),
    ("GET", ItemView(), "read"),
    ("HEAD", ItemView(), "read"),
    ("POST", ItemView(), "create"),
    ("PUT", ItemView(), "update"),
    ("PATCH", ItemView(), "update"),
    ("DELETE", ItemView(), "delete"),
    ("POST", ManageView(), "manage"),
])
def test_action_follows_the_method_unless_declared(method: str, view: APIView, expected: str) -> None:
    assert rbac_action(request(method), view) == expected


def test_resource_comes_from_the_attribute_or_the_method() -> None:
    assert rbac_resource(request("GET"), ListView()) == "tasks"
    assert rbac_resource(request("GET"), ItemView()) == "tasks/7"
    assert rbac_resource(request("GET"), ItemView(), obj="logs") == "tasks/7/logs"


def test_a_view_without_a_resource_is_a_configuration_error() -> None:
    with pytest.raises(ImproperlyConfigured):
        rbac_resource(request("GET"), UndeclaredView())

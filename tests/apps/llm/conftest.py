"""Fixtures for the lineup's admin and API tests: an API client holding an admin key, the served proxy (the
proxy's own fixtures) and how long routing may lag."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.rbac.models import Policy
from apps.rbac.services import api_key_create, principal_create
from tests.proxy.conftest import proxy_keys, served_stack, stack

__all__ = ["proxy_keys", "served_stack", "stack"]

# Routing must follow a lineup change within this long: one poll interval, a reload, and some slack.
CHANGE_SECONDS = 3.0


@pytest.fixture
def admin_api(db: None) -> APIClient:
    """An API client presenting a committed key of a principal holding the built-in `admin` policy."""
    principal = principal_create(name="catalog-admin", kind="service", policies=[Policy.objects.get(name="admin")])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(principal=principal, name='catalog')[1]}")
    return client


@pytest.fixture
def proxy_key(db: None) -> str:
    """A committed operator key for calling the served proxy (the module-wide keys may have been flushed)."""
    principal = principal_create(name="catalog-caller", kind="service", policies=[Policy.objects.get(name="operator")])
    return api_key_create(principal=principal, name="catalog caller")[1]


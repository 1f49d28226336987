"""RBAC fixtures: issuing keys, clients that present them, and the built-in policies by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.rbac.models import Policy, Principal
from apps.rbac.services import api_key_create
from tests.apps.rbac.factories import PolicyFactory, PrincipalFactory, ServiceFactory

IssueKey = Callable[..., str]
Builtin = Callable[[str], Policy]
ClientFor = Callable[..., APIClient]


@pytest.fixture
def issue_key(db: None) -> IssueKey:
    """`issue_key(principal, **api_key_create kwargs)` -> the raw key."""

    def issue(principal: Principal, **kwargs: Any) -> str:
        return api_key_create(principal=principal, **kwargs)[1]

    return issue


@pytest.fixture
def client_for(issue_key: IssueKey) -> ClientFor:
    """`client_for(principal)`: an API client presenting a fresh key of that principal."""

    def make(principal: Principal) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_key(principal)}")
        return client

    return make


@pytest.fixture
def builtin(db: None) -> Builtin:
    """`builtin("operator")`: a built-in policy, as the data migration installed it."""
    return lambda name: Policy.objects.get(name=name, builtin=True)


@pytest.fixture
def admin_principal(builtin: Builtin) -> Principal:
    return ServiceFactory(name="svc-admin", policies=[builtin("admin")])


@pytest.fixture
def admin_api(client_for: ClientFor, admin_principal: Principal) -> APIClient:
    """An API client acting as a service principal holding the built-in admin policy."""
    return client_for(admin_principal)


@pytest.fixture
def nobody(db: None) -> Principal:
    """A principal whose only policy allows reading one task: enough to authenticate, not to manage RBAC."""
    return PrincipalFactory(name="nobody", policies=[PolicyFactory(rules=[{"path": "tasks/1", "actions": ["read"]}])])

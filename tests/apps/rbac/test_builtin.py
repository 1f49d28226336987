"""What each built-in role may do, as docs/rbac.md promises."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from apps.rbac.authorization import authorize
from apps.rbac.models import Policy
from tests.apps.rbac.factories import ServiceFactory

ROLE_TABLE = [
    ("admin", "manage", "rbac/policies/anything", True),
    ("admin", "read", "rbac/api-keys/abcd1234", True),
    ("operator", "execute", "runners/lex-http/request/get", True),
    ("operator", "delete", "tasks/42", True),
    ("operator", "manage", "schedules/nightly", True),
    ("operator", "create", "chains/etl", True),
    ("operator", "execute", "models/openai/gpt-4o", True),
    ("operator", "list", "tasks", True),
    ("operator", "read", "rbac/principals/alice", True),
    ("operator", "list", "rbac/api-keys", True),
    ("operator", "create", "rbac/principals/bob", False),
    ("operator", "update", "rbac/policies/operator", False),
    ("operator", "delete", "rbac/api-keys/abcd1234", False),
    ("operator", "update", "extensions/lex-http", False),
    ("worker", "execute", "runners/lex-http/request/get", True),
    ("worker", "create", "tasks/7", True),
    ("worker", "read", "tasks/7", True),
    ("worker", "read", "schedules/nightly", True),
    ("worker", "read", "extensions/lex-http", True),
    ("worker", "delete", "tasks/7", False),
    ("worker", "create", "schedules/nightly", False),
    ("worker", "execute", "models/openai/gpt-4o", False),
    ("worker", "read", "rbac/principals/alice", False),
    ("observer", "read", "tasks/7", True),
    ("observer", "list", "chains", True),
    ("observer", "read", "rbac/policies/admin", True),
    ("observer", "read", "system/config", True),
    ("observer", "read", "rbac/api-keys/abcd1234", False),
    ("observer", "list", "rbac/api-keys", False),
    ("observer", "read", "system/secrets/vault", False),
    ("observer", "execute", "runners/lex-http/request/get", False),
    ("observer", "update", "tasks/7", False),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "action", "resource", "allowed"), ROLE_TABLE,
                         ids=[f"{r} {a} {res}" for r, a, res, _ in ROLE_TABLE])
def test_builtin_role(builtin: Callable[[str], Policy], role: str, action: str, resource: str,
                      allowed: bool) -> None:
    principal = ServiceFactory(policies=[builtin(role)])

    assert authorize(principal, action, resource).allowed is allowed

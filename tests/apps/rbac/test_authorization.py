"""`authorize()` as a specification table: globs, `+` segments, anchoring, deny wins, no policy, inactive
principals, team policies, superusers, and keys that are expired or revoked (via api_key_authenticate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.rbac.authorization import (
    REASON_ALLOWED,
    REASON_DENIED,
    REASON_INACTIVE,
    REASON_INVALID_ACTION,
    REASON_INVALID_RESOURCE,
    REASON_NO_MATCH,
    REASON_NO_POLICIES,
    REASON_NO_PRINCIPAL,
    authorize,
    principal_for_user,
)
from apps.rbac.models import ApiKey, Principal
from apps.rbac.services import api_key_authenticate, api_key_create, api_key_revoke
from tests.apps.rbac.factories import PolicyFactory, PrincipalFactory, TeamFactory, UserFactory

Rules = list[dict[str, Any]]


def allow(path: str, *actions: str) -> dict[str, Any]:
    return {"path": path, "actions": list(actions)}


def deny(path: str, *actions: str) -> dict[str, Any]:
    return {"path": path, **({"actions": list(actions)} if actions else {})}


@dataclass(frozen=True)
class Case:
    id: str
    action: str
    resource: str
    allowed: bool
    reason: str
    rules: Rules | None = None  # the principal's own policy ("own"); None: no own policy
    denies: Rules = field(default_factory=list)
    team_rules: Rules | None = None  # a policy ("team") on a team the principal is in
    team_denies: Rules = field(default_factory=list)
    team_active: bool = True
    active: bool = True
    superuser: bool = False
    key: str | None = None  # "valid", "expired", "revoked", "wrong": act as the principal behind a key
    key_error: str | None = None  # the ApplicationError code api_key_authenticate must raise
    rule_path: str | None = None  # the deciding rule, when one decides
    policy: str | None = None


CASES = [
    # Literal paths and actions
    Case("literal path allows", "read", "tasks/42", True, REASON_ALLOWED, [allow("tasks/42", "read")],
         rule_path="tasks/42", policy="own"),
    Case("literal path is not a prefix", "read", "tasks/43", False, REASON_NO_MATCH, [allow("tasks/42", "read")]),
    Case("action outside the rule", "delete", "tasks/42", False, REASON_NO_MATCH, [allow("tasks/42", "read")]),
    Case("star action covers every action", "delete", "tasks/42", True, REASON_ALLOWED, [allow("tasks/42", "*")]),
    Case("dot is literal, not a regex", "read", "models/x/gpt-4x1", False, REASON_NO_MATCH,
         [allow("models/x/gpt-4.1", "read")]),
    # `*`
    Case("star matches one segment", "read", "tasks/42", True, REASON_ALLOWED, [allow("tasks/*", "read")]),
    Case("star crosses slashes", "read", "tasks/42/logs/7", True, REASON_ALLOWED, [allow("tasks/*", "read")]),
    Case("star after slash needs the slash", "list", "tasks", False, REASON_NO_MATCH, [allow("tasks/*", "list")]),
    Case("collection idiom covers the collection", "list", "tasks", True, REASON_ALLOWED, [allow("tasks*", "list")]),
    Case("collection idiom covers items", "read", "tasks/9", True, REASON_ALLOWED, [allow("tasks*", "read")]),
    Case("star inside a segment", "execute", "models/openai/gpt-4o", True, REASON_ALLOWED,
         [allow("models/openai/gpt-*", "execute")]),
    Case("star inside a segment crosses slashes", "execute", "models/openai/gpt-4o/mini", True, REASON_ALLOWED,
         [allow("models/openai/gpt-*", "execute")]),
    Case("star inside a segment keeps its literal part", "execute", "models/openai/o1", False, REASON_NO_MATCH,
         [allow("models/openai/gpt-*", "execute")]),
    Case("lone star matches everything", "manage", "system/config", True, REASON_ALLOWED, [allow("*", "*")]),
    # `+`
    Case("plus matches one segment", "execute", "runners/lex-http/request/get", True, REASON_ALLOWED,
         [allow("runners/+/request/get", "execute")], rule_path="runners/+/request/get"),
    Case("plus does not match two segments", "execute", "runners/a/b/get", False, REASON_NO_MATCH,
         [allow("runners/+/get", "execute")]),
    Case("plus does not match nothing", "list", "tasks", False, REASON_NO_MATCH, [allow("tasks/+", "list")]),
    Case("trailing plus does not reach deeper", "read", "tasks/42/logs", False, REASON_NO_MATCH,
         [allow("tasks/+", "read")]),
    Case("two pluses match exactly two segments", "read", "chains/nightly", True, REASON_ALLOWED,
         [allow("+/+", "read")]),
    # Anchoring
    Case("anchored at the start", "read", "archive/tasks/1", False, REASON_NO_MATCH, [allow("tasks/*", "read")]),
    Case("anchored at the end", "read", "tasks/42/logs", False, REASON_NO_MATCH, [allow("tasks/42", "read")]),
    # Deny wins
    Case("deny beats allow in the same policy", "read", "rbac/principals/a", False, REASON_DENIED,
         [allow("*", "*")], denies=[deny("rbac/*")], rule_path="rbac/*", policy="own"),
    Case("deny limited to its actions", "read", "tasks/1", True, REASON_ALLOWED,
         [allow("tasks/*", "*")], denies=[deny("tasks/*", "delete")]),
    Case("deny limited to its actions still denies them", "delete", "tasks/1", False, REASON_DENIED,
         [allow("tasks/*", "*")], denies=[deny("tasks/*", "delete")]),
    Case("deny without actions denies all", "execute", "tasks/1", False, REASON_DENIED,
         [allow("tasks/*", "*")], denies=[deny("tasks/*")]),
    Case("team deny beats own allow", "read", "system/secrets/db", False, REASON_DENIED,
         [allow("*", "read")], team_rules=[], team_denies=[deny("system/secrets*")], policy="team"),
    Case("own deny beats team allow", "execute", "runners/x/y/z", False, REASON_DENIED,
         [], denies=[deny("runners/*", "execute")], team_rules=[allow("runners/*", "execute")], policy="own"),
    # No policies, no match
    Case("no policies attached", "read", "tasks/1", False, REASON_NO_POLICIES),
    Case("only deny rules and none matches", "read", "tasks/1", False, REASON_NO_MATCH, [],
         denies=[deny("rbac/*")]),
    # Teams
    Case("team policy grants", "create", "tasks/5", True, REASON_ALLOWED, team_rules=[allow("tasks/*", "create")],
         policy="team"),
    Case("inactive team grants nothing", "create", "tasks/5", False, REASON_NO_POLICIES,
         team_rules=[allow("tasks/*", "create")], team_active=False),
    # Principal state
    Case("inactive principal is denied", "read", "tasks/1", False, REASON_INACTIVE, [allow("*", "*")], active=False),
    Case("superuser holds admin", "manage", "rbac/policies/x", True, REASON_ALLOWED, superuser=True,
         policy="admin", rule_path="*"),
    # Malformed questions fail closed
    Case("unknown action", "destroy", "tasks/1", False, REASON_INVALID_ACTION, [allow("*", "*")]),
    Case("star is not a requestable action", "*", "tasks/1", False, REASON_INVALID_ACTION, [allow("*", "*")]),
    Case("empty segment in resource", "read", "tasks//1", False, REASON_INVALID_RESOURCE, [allow("*", "*")]),
    Case("wildcard in resource", "read", "tasks/*", False, REASON_INVALID_RESOURCE, [allow("*", "*")]),
    # Through API keys
    Case("valid key acts as its principal", "read", "tasks/1", True, REASON_ALLOWED, [allow("tasks/*", "read")],
         key="valid"),
    Case("expired key", "read", "tasks/1", False, "", [allow("*", "*")], key="expired", key_error="api_key_expired"),
    Case("revoked key", "read", "tasks/1", False, "", [allow("*", "*")], key="revoked", key_error="api_key_revoked"),
    Case("wrong secret", "read", "tasks/1", False, "", [allow("*", "*")], key="wrong", key_error="invalid_api_key"),
    Case("key of an inactive principal", "read", "tasks/1", False, "", [allow("*", "*")], active=False,
         key="valid", key_error="principal_inactive"),
]


def _principal(case: Case) -> Principal:
    policies = [PolicyFactory(name="own", rules=case.rules, deny=case.denies)] if case.rules is not None else []
    teams = []
    if case.team_rules is not None:
        team_policy = PolicyFactory(name="team", rules=case.team_rules, deny=case.team_denies)
        teams = [TeamFactory(is_active=case.team_active, policies=[team_policy])]
    user = UserFactory(is_superuser=True) if case.superuser else None
    return PrincipalFactory(is_active=case.active, user=user, policies=policies, teams=teams)


def _through_key(principal: Principal, state: str) -> Principal:
    api_key, raw = api_key_create(principal=principal)
    if state == "expired":
        ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "revoked":
        api_key_revoke(api_key=api_key)
    elif state == "wrong":
        raw = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    return api_key_authenticate(raw_key=raw)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_authorize(case: Case) -> None:
    principal = _principal(case)
    if case.key is not None:
        if case.key_error:
            with pytest.raises(ApplicationError) as caught:
                _through_key(principal, case.key)
            assert (caught.value.code, caught.value.status) == (case.key_error, 401)
            return
        principal = _through_key(principal, case.key)

    decision = authorize(principal, case.action, case.resource)

    assert (decision.allowed, decision.reason) == (case.allowed, case.reason)
    if case.rule_path is not None:
        assert decision.rule_path == case.rule_path
    if case.policy is not None:
        assert decision.policy == case.policy
    assert (decision.rule_kind is None) == (case.reason not in {REASON_ALLOWED, REASON_DENIED})


def test_the_table_covers_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_no_principal_is_denied() -> None:
    assert authorize(None, "read", "tasks/1").reason == REASON_NO_PRINCIPAL


@pytest.mark.django_db
def test_a_decision_names_the_deciding_rule() -> None:
    principal = PrincipalFactory(policies=[PolicyFactory(name="ops", rules=[allow("tasks*", "read", "list")])])

    decision = authorize(principal, "list", "tasks")

    assert decision.rule() == {"kind": "allow", "path": "tasks*", "actions": ["read", "list"]}
    assert "ops" in decision.describe() and decision.describe().startswith("ALLOW")


@pytest.mark.django_db
def test_a_disabled_login_disables_its_principal() -> None:
    user = UserFactory(is_superuser=True, is_active=False)

    assert authorize(principal_for_user(user), "read", "tasks/1").reason == REASON_INACTIVE


@pytest.mark.django_db
def test_superuser_admin_lasts_only_while_the_login_is_a_superuser() -> None:
    user = UserFactory(is_superuser=True)
    principal = principal_for_user(user)
    assert authorize(principal, "delete", "rbac/principals/x").allowed

    user.is_superuser = False
    user.save()
    principal.refresh_from_db()

    assert authorize(principal, "delete", "rbac/principals/x").reason == REASON_NO_POLICIES


@pytest.mark.django_db
def test_principal_for_user_creates_one_principal_per_login() -> None:
    user = UserFactory(username="alice@example.com")

    first, second = principal_for_user(user), principal_for_user(user)

    assert first.pk == second.pk
    assert (first.name, first.kind, first.user_id) == ("alice@example.com", "user", user.pk)
    assert list(first.policies.all()) == []

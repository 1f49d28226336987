"""`policies_evaluate` on plain data (what the proxy caches): no database, same semantics."""

from __future__ import annotations

from apps.rbac.decisions import (
    REASON_ALLOWED,
    REASON_DENIED,
    REASON_NO_MATCH,
    REASON_NO_POLICIES,
    PolicyData,
    policies_evaluate,
)


def snapshot(name: str, rules: object, deny: object = ()) -> PolicyData:
    return PolicyData.from_document(name, rules=rules, deny=list(deny) if isinstance(deny, tuple) else deny)


def test_snapshot_evaluation_needs_no_database() -> None:
    policies = [snapshot("models", [{"path": "models/openai/*", "actions": ["execute"]}])]

    decision = policies_evaluate(policies, "execute", "models/openai/gpt-4o")

    assert (decision.allowed, decision.reason, decision.policy) == (True, REASON_ALLOWED, "models")


def test_deny_in_a_later_policy_still_wins() -> None:
    policies = [snapshot("a", [{"path": "*", "actions": ["*"]}]), snapshot("b", [], [{"path": "models/*"}])]

    decision = policies_evaluate(policies, "execute", "models/x/y")

    assert (decision.allowed, decision.reason, decision.policy, decision.rule_actions) == (
        False, REASON_DENIED, "b", ("*",))


def test_empty_snapshot_is_denied() -> None:
    assert policies_evaluate([], "read", "tasks/1").reason == REASON_NO_POLICIES


def test_a_corrupt_stored_deny_rule_fails_closed() -> None:
    policies = [snapshot("a", [{"path": "*", "actions": ["*"]}], [{"path": "bad//glob"}, "garbage"])]

    assert policies_evaluate(policies, "read", "tasks/1").reason == REASON_DENIED


def test_a_corrupt_stored_allow_rule_allows_nothing() -> None:
    policies = [snapshot("a", [{"path": "bad//glob", "actions": ["*"]}, "garbage"])]

    assert policies_evaluate(policies, "read", "bad//glob").allowed is False
    assert policies_evaluate(policies, "read", "tasks/1").reason == REASON_NO_MATCH

"""Policy documents: every rejected shape names its field path and a stable code."""

from __future__ import annotations

from typing import Any

import pytest

from apps.rbac.validation import policy_document_problems

RULE = {"path": "tasks/*", "actions": ["read"]}


@pytest.mark.parametrize(("rules", "deny", "field", "code"), [
    ("tasks/*", [], "rules", "invalid_rule"),
    ([RULE], {"path": "x"}, "deny", "invalid_rule"),
    (["tasks/*"], [], "rules.0", "invalid_rule"),
    ([{"actions": ["read"]}], [], "rules.0.path", "invalid_rule"),
    ([RULE, {"path": "tasks/a+b", "actions": ["read"]}], [], "rules.1.path", "invalid_path"),
    ([{"path": "/tasks", "actions": ["read"]}], [], "rules.0.path", "invalid_path"),
    ([{"path": "tasks//x", "actions": ["read"]}], [], "rules.0.path", "invalid_path"),
    ([{"path": 7, "actions": ["read"]}], [], "rules.0.path", "invalid_path"),
    ([{"path": "tasks/*", "actions": ["read", "destroy"]}], [], "rules.0.actions.1", "invalid_action"),
    ([{"path": "tasks/*", "actions": []}], [], "rules.0.actions", "invalid_rule"),
    ([{"path": "tasks/*", "actions": "read"}], [], "rules.0.actions", "invalid_rule"),
    ([{"path": "tasks/*"}], [], "rules.0.actions", "invalid_rule"),
    ([{"path": "tasks/*", "actions": ["read"], "effect": "allow"}], [], "rules.0.effect", "invalid_rule"),
    ([RULE], [{"path": "tasks/+x"}], "deny.0.path", "invalid_path"),
    ([RULE], [{"path": "tasks/*", "actions": ["nuke"]}], "deny.0.actions.0", "invalid_action"),
])
def test_invalid_documents_name_the_field(rules: Any, deny: Any, field: str, code: str) -> None:
    problems = policy_document_problems(rules=rules, deny=deny)

    assert (problems[0].field, problems[0].code) == (field, code)


def test_deny_rules_may_omit_actions() -> None:
    assert policy_document_problems(rules=[RULE], deny=[{"path": "rbac/*"}]) == []


def test_star_is_a_valid_rule_action() -> None:
    assert policy_document_problems(rules=[{"path": "*", "actions": ["*"]}], deny=[]) == []


def test_every_problem_is_reported() -> None:
    problems = policy_document_problems(rules=[{"path": "/a", "actions": ["x"]}], deny=[{"path": ""}])

    assert [p.field for p in problems] == ["rules.0.path", "rules.0.actions.0", "deny.0.path"]

"""Coverage of one set of rules by another: conservative, and every shortfall named."""

from __future__ import annotations

import pytest

from apps.rbac.decisions import PolicyData
from apps.rbac.grants import glob_covers, globs_may_overlap, rights_shortfalls
from apps.rbac.validation import ACTIONS


@pytest.mark.parametrize(("outer", "inner", "covered"), [
    ("*", "anything/at/all*", True),
    ("tasks*", "tasks/+", True),
    ("tasks*", "tasks", True),
    ("rbac/*", "rbac/policies/x", True),
    ("runners/+/request/get", "runners/lex-http/request/get", True),
    ("tasks/*", "tasks*", False),  # `tasks*` also matches `tasks` and `tasks-archive`
    ("tasks/+", "tasks/*", False),
    ("models/+/openai/*", "models/cloud/openai/gpt-*", False),  # true, but not shown: refused, conservatively
    ("chains*", "tasks/1", False),
])
def test_glob_covers(outer: str, inner: str, covered: bool) -> None:
    assert glob_covers(outer, inner) is covered


@pytest.mark.parametrize(("first", "second", "overlap"), [
    ("rbac/api-keys*", "*", True),
    ("rbac/api-keys*", "rbac/principals/*", False),
    ("system/secrets*", "tasks/1", False),
    ("system/secrets*", "system/secrets/vault", True),
    ("*/secrets", "tasks/*", True),  # cannot tell: assumed to overlap
])
def test_globs_may_overlap(first: str, second: str, overlap: bool) -> None:
    assert globs_may_overlap(first, second) is overlap


def policy(name: str, rules: list[dict[str, object]], deny: list[dict[str, object]] | None = None) -> PolicyData:
    return PolicyData.from_document(name, rules=rules, deny=deny or [])


def test_every_action_of_a_star_rule_must_be_held() -> None:
    held = [policy("ops", [{"path": "tasks*", "actions": ["read", "list"]}])]
    wanted = policy("x", [{"path": "tasks/*", "actions": ["*"]}])

    problems = rights_shortfalls(held, rights=wanted.rules)

    assert problems[0] == "allow tasks/* [create]: you hold no allow rule covering it"
    assert len(problems) == len(ACTIONS) - 2  # every action but read and list


def test_a_deny_of_the_grantor_blocks_unless_the_policy_repeats_it() -> None:
    held = [policy("reader", [{"path": "*", "actions": ["read"]}], [{"path": "system/secrets*"}])]
    wide = policy("wide", [{"path": "*", "actions": ["read"]}])
    fenced = policy("fenced", [{"path": "*", "actions": ["read"]}], [{"path": "system/*"}])

    assert rights_shortfalls(held, rights=wide.rules) == [
        "allow * [read]: your deny rule system/secrets* in policy reader overlaps it"]
    assert rights_shortfalls(held, rights=fenced.rules, withheld=fenced.deny) == []

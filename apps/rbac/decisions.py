"""Pure policy evaluation: plain policy data in, an explained `Decision` out; no database, no Django.

This is what `authorize()` runs after loading a principal's policies, and what the LLM proxy runs on
the snapshots it caches, so both decide identically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from apps.rbac.globs import GlobError, glob_compile, resource_problem
from apps.rbac.validation import ACTIONS, ALL_ACTIONS

# Stable reasons: callers and tests compare against these constants.
REASON_ALLOWED = "allowed by rule"
REASON_DENIED = "denied by rule"
REASON_NO_POLICIES = "no policies attached"
REASON_NO_MATCH = "no matching rule"
REASON_INACTIVE = "principal is inactive"
REASON_NO_PRINCIPAL = "no principal"
REASON_INVALID_ACTION = "unknown action"
REASON_INVALID_RESOURCE = "invalid resource"

RuleKind = Literal["allow", "deny"]


@dataclass(frozen=True)
class RuleData:
    kind: RuleKind
    path: str
    actions: tuple[str, ...]  # ("*",) for all, including a deny rule written without actions

    def matches(self, action: str, resource: str) -> bool:
        if ALL_ACTIONS not in self.actions and action not in self.actions:
            return False
        try:
            return glob_compile(self.path).match(resource) is not None
        except GlobError:
            # Stored documents are validated on save; one that was not (edited in the database) must
            # fail closed: a broken deny rule denies, a broken allow rule allows nothing.
            return self.kind == "deny"


@dataclass(frozen=True)
class PolicyData:
    """A policy as plain data: what a cache can hold and `policies_evaluate` reads."""

    name: str
    rules: tuple[RuleData, ...] = ()
    deny: tuple[RuleData, ...] = ()

    @classmethod
    def from_document(cls, name: str, *, rules: object, deny: object) -> PolicyData:
        return cls(name=name, rules=_rules_from("allow", rules), deny=_rules_from("deny", deny))


@dataclass(frozen=True)
class Decision:
    """The answer to "may this principal do this?" and the rule (if any) that settled it."""

    allowed: bool
    reason: str
    policy: str | None = None
    rule_kind: RuleKind | None = None
    rule_path: str | None = None
    rule_actions: tuple[str, ...] | None = None

    def describe(self) -> str:
        verdict = "ALLOW" if self.allowed else "DENY"
        if self.rule_kind is None:
            return f"{verdict}: {self.reason}"
        actions = ", ".join(self.rule_actions or ())
        return f"{verdict}: {self.reason} ({self.rule_kind} {self.rule_path} [{actions}] in policy {self.policy})"

    def rule(self) -> dict[str, Any] | None:
        if self.rule_kind is None:
            return None
        return {"kind": self.rule_kind, "path": self.rule_path, "actions": list(self.rule_actions or ())}


def policies_evaluate(policies: Iterable[PolicyData], action: str, resource: str) -> Decision:
    """Decide `action` on `resource` under `policies`: deny wins, then the first allow, else deny.

    An unknown action, a malformed resource or an empty policy list is denied. Order matters only for
    which rule is reported: every deny rule is checked before any allow rule.
    """
    policies = tuple(policies)
    if action not in ACTIONS:
        return Decision(False, REASON_INVALID_ACTION)
    if resource_problem(resource):
        return Decision(False, REASON_INVALID_RESOURCE)
    if not policies:
        return Decision(False, REASON_NO_POLICIES)
    for kind in ("deny", "allow"):
        for policy in policies:
            for rule in policy.deny if kind == "deny" else policy.rules:
                if rule.matches(action, resource):
                    return Decision(kind == "allow", REASON_ALLOWED if kind == "allow" else REASON_DENIED,
                                    policy.name, rule.kind, rule.path, rule.actions)
    return Decision(False, REASON_NO_MATCH)


def _rules_from(kind: RuleKind, document: object) -> tuple[RuleData, ...]:
    rules = []
    for raw in document if isinstance(document, list) else []:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("path"), str):
            if kind == "deny":  # unreadable deny rule: fail closed, as in RuleData.matches
                rules.append(RuleData(kind, "*", (ALL_ACTIONS,)))
            continue
        actions = raw.get("actions")
        names = tuple(a for a in actions if isinstance(a, str)) if isinstance(actions, list) else ()
        rules.append(RuleData(kind, raw["path"], names or ((ALL_ACTIONS,) if kind == "deny" else ())))
    return tuple(rules)

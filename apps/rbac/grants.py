"""Whether a grantor's own rights cover what a policy would give: nobody grants what they do not hold.

Pure, like `decisions.py`. Deciding exactly whether one set of globs contains another is more than an
access check needs, so coverage is conservative: a grant that cannot be shown to be covered is refused,
and every refusal names the rule that was not covered and why.

A right is a rule (glob + actions). The grantor covers a right when, for each of its actions,
- one of the grantor's allow rules holds the action on a glob that contains the right's glob, and
- none of the grantor's deny rules for the action can overlap it, unless the granted policy repeats
  that deny itself (then the policy gives nothing there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from apps.rbac.decisions import PolicyData, RuleData
from apps.rbac.globs import GlobError, glob_match
from apps.rbac.validation import ACTIONS, ALL_ACTIONS


def rights_shortfalls(held: Iterable[PolicyData], *, rights: Sequence[RuleData],
                      withheld: Sequence[RuleData] = ()) -> list[str]:
    """Why `held` does not cover every right in `rights` (one sentence each); empty when it does.

    `withheld` are deny rules travelling with the rights (the granted policy's own), which make a
    grantor's deny in the same place harmless.
    """
    held = tuple(held)
    allows = [rule for policy in held for rule in policy.rules]
    denies = [(policy.name, rule) for policy in held for rule in policy.deny]
    problems = []
    for right in rights:
        for action in _actions(right):
            problem = _shortfall(right.path, action, allows, denies, withheld)
            if problem:
                problems.append(f"{right.kind} {right.path} [{action}]: {problem}")
    return problems


def _shortfall(path: str, action: str, allows: Sequence[RuleData],
               denies: Sequence[tuple[str, RuleData]], withheld: Sequence[RuleData]) -> str | None:
    if not any(_holds(rule, action) and glob_covers(rule.path, path) for rule in allows):
        return "you hold no allow rule covering it"
    for policy, deny in denies:
        if not _holds(deny, action) or not globs_may_overlap(deny.path, path):
            continue
        if not any(_holds(rule, action) and glob_covers(rule.path, deny.path) for rule in withheld):
            return f"your deny rule {deny.path} in policy {policy} overlaps it"
    return None


def _actions(rule: RuleData) -> tuple[str, ...]:
    # `*` grants every action, so the grantor must hold each one.
    return ACTIONS if ALL_ACTIONS in rule.actions else rule.actions


def _holds(rule: RuleData, action: str) -> bool:
    return ALL_ACTIONS in rule.actions or action in rule.actions


def _literal_prefix(glob: str) -> str:
    """What every resource the glob matches starts with: the text before its first wildcard.

    `+` is not a safe character, so any `+` in a valid glob is a wildcard segment.
    """
    cut = min((i for i in (glob.find("*"), glob.find("+")) if i >= 0), default=len(glob))
    return glob[:cut]


def _is_literal(glob: str) -> bool:
    return _literal_prefix(glob) == glob


def glob_covers(outer: str, inner: str) -> bool:
    """True only when every resource `inner` matches is matched by `outer` (False when unsure).

    Shown three ways: `inner` is a plain resource `outer` matches; the globs are equal; `outer` is
    a literal prefix followed by `*` and `inner` cannot match anything outside that prefix.
    """
    try:
        if _is_literal(inner):
            return glob_match(outer, inner)
    except GlobError:
        return False
    if outer == inner:
        return True
    head = outer[:-1]
    return outer.endswith("*") and _is_literal(head) and _literal_prefix(inner).startswith(head)


def globs_may_overlap(first: str, second: str) -> bool:
    """False only when no resource can match both (True when unsure): by a literal side, or by prefixes
    that diverge."""
    try:
        if _is_literal(first):
            return glob_match(second, first)
        if _is_literal(second):
            return glob_match(first, second)
    except GlobError:
        return True
    a, b = _literal_prefix(first), _literal_prefix(second)
    return a.startswith(b) or b.startswith(a)

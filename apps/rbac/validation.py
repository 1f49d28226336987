"""Actions and the shape of a policy document (allow and deny rules), checked with a field path per problem.

Pure (no Django, no DRF) so models, the proxy and DRF's authentication modules can import it early.
The API serializer, the services (through `apps.rbac.checks`) and `Policy.clean` all call
`policy_document_problems`, so a policy is judged the same way whichever door it comes through.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.rbac.globs import glob_problem

ACTIONS = ("read", "create", "update", "delete", "list", "execute", "manage", "impersonate", "read_content",
           "grant")
ALL_ACTIONS = "*"
RULE_ACTIONS = (*ACTIONS, ALL_ACTIONS)
RULE_KEYS = ("path", "actions")


@dataclass(frozen=True)
class PolicyProblem:
    field: str  # dotted path into the document: "rules.0.path", "deny.1.actions.0"
    code: str  # invalid_rule (shape), invalid_path (glob), invalid_action
    message: str


def policy_document_problems(*, rules: object, deny: object) -> list[PolicyProblem]:
    """Every problem in an allow-rule list and a deny-rule list; empty when both are valid.

    Allow rules are `{path, actions}`; deny rules are `{path, actions?}`, no actions meaning all.
    """
    return [*_rule_list_problems("rules", rules, actions_required=True),
            *_rule_list_problems("deny", deny, actions_required=False)]


def _rule_list_problems(field: str, value: object, *, actions_required: bool) -> list[PolicyProblem]:
    if not isinstance(value, list):
        return [PolicyProblem(field, "invalid_rule", "must be a list of rules")]
    problems: list[PolicyProblem] = []
    for index, rule in enumerate(value):
        problems += _rule_problems(f"{field}.{index}", rule, actions_required=actions_required)
    return problems


def _rule_problems(field: str, rule: object, *, actions_required: bool) -> list[PolicyProblem]:
    if not isinstance(rule, dict):
        return [PolicyProblem(field, "invalid_rule", "a rule must be an object with 'path' and 'actions'")]
    problems = [
        PolicyProblem(f"{field}.{key}", "invalid_rule", f"unknown key {key!r}; a rule has 'path' and 'actions'")
        for key in rule if key not in RULE_KEYS
    ]
    if "path" not in rule:
        problems.append(PolicyProblem(f"{field}.path", "invalid_rule", "a rule needs a 'path'"))
    elif problem := glob_problem(rule["path"]):
        problems.append(PolicyProblem(f"{field}.path", "invalid_path", problem))
    if "actions" in rule:
        problems += _actions_problems(f"{field}.actions", rule["actions"])
    elif actions_required:
        problems.append(PolicyProblem(f"{field}.actions", "invalid_rule", "an allow rule needs 'actions'"))
    return problems


def _actions_problems(field: str, actions: object) -> list[PolicyProblem]:
    if not isinstance(actions, list) or not actions:
        return [PolicyProblem(field, "invalid_rule", "actions must be a non-empty list")]
    return [
        PolicyProblem(f"{field}.{index}", "invalid_action",
                      f"unknown action {action!r}; one of {', '.join(RULE_ACTIONS)}")
        for index, action in enumerate(actions) if action not in RULE_ACTIONS
    ]

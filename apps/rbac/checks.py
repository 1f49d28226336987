"""Validators that raise ApplicationError with a stable code and field, for services, CLI and API."""

from __future__ import annotations

from collections.abc import Sequence

from apps.core.errors import ApplicationError
from apps.rbac.globs import name_problem, resource_problem
from apps.rbac.validation import ACTIONS, PolicyProblem, policy_document_problems


class PolicyInvalid(ApplicationError):
    """A policy document that breaks the grammar; carries every problem, reports the first."""

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        first = problems[0]
        super().__init__(first.code, first.message, field=first.field)
        self.problems = tuple(problems)


def policy_document_check(*, rules: object, deny: object) -> None:
    """Raise PolicyInvalid (`invalid_rule`, `invalid_path`, `invalid_action`; field like `rules.0.path`)."""
    problems = policy_document_problems(rules=rules, deny=deny)
    if problems:
        raise PolicyInvalid(problems)


def name_check(name: object, *, field: str = "name") -> None:
    """Principal and policy names are one resource segment, since they appear in resource paths."""
    problem = name_problem(name)
    if problem:
        raise ApplicationError("invalid_name", problem, field=field)


def action_check(action: object, *, field: str = "action") -> None:
    """A requested action is one concrete action; `*` only belongs in rules."""
    if action not in ACTIONS:
        raise ApplicationError("invalid_action", f"unknown action {action!r}; one of {', '.join(ACTIONS)}",
                               field=field)


def resource_check(resource: object, *, field: str = "resource") -> None:
    problem = resource_problem(resource)
    if problem:
        raise ApplicationError("invalid_resource", problem, field=field)

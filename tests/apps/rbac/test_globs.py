"""The path grammar: which globs, resources and names are valid, and what a glob matches."""

from __future__ import annotations

import pytest

from apps.rbac.globs import (
    GlobError,
    glob_compile,
    glob_match,
    glob_problem,
    name_problem,
    resource_join,
    resource_problem,
)


@pytest.mark.parametrize("pattern", [
    "*", "tasks", "tasks/*", "tasks*", "runners/+/request/get", "+/+", "models/openai/gpt-*", "a/*/c",
    "rbac/principals/alice@example.com", "models/ollama/llama3:8b", "x_y-z.w",
])
def test_valid_globs(pattern: str) -> None:
    assert glob_problem(pattern) is None


@pytest.mark.parametrize("pattern", [
    "", "/tasks", "tasks/", "tasks//1", "tasks/a+", "+tasks", "tasks/+x", "tasks/a b", "tasks/%41", "tasks/?",
    "tasks/..", "./tasks", "x" * 513, 42, None,
])
def test_invalid_globs(pattern: object) -> None:
    assert glob_problem(pattern) is not None
    if isinstance(pattern, str):
        with pytest.raises(GlobError):
            glob_compile(pattern)


@pytest.mark.parametrize("resource", ["tasks/*", "tasks/+", "+", "*"])
def test_resources_carry_no_wildcards(resource: str) -> None:
    assert resource_problem(resource) is not None


def test_plus_inside_a_segment_is_explained() -> None:
    assert "whole segment" in (glob_problem("tasks/a+b") or "")


@pytest.mark.parametrize(("pattern", "resource", "matches"), [
    ("tasks/*", "tasks/1/2/3", True),
    ("tasks/+", "tasks/1/2", False),
    ("tasks/+/logs", "tasks/1/logs", True),
    ("a.b", "aXb", False),
    ("*", "anything/at/all", True),
])
def test_glob_match(pattern: str, resource: str, matches: bool) -> None:
    assert glob_match(pattern, resource) is matches


@pytest.mark.parametrize("name", ["a/b", "", ".", "..", "with space", "x" * 101])
def test_names_are_one_safe_segment(name: str) -> None:
    assert name_problem(name) is not None


def test_resource_join_falls_back_to_the_collection_for_bad_names() -> None:
    assert resource_join("rbac/principals", "alice") == "rbac/principals/alice"
    assert resource_join("rbac/principals", "a/b") == "rbac/principals"
    assert resource_join("rbac/principals", None) == "rbac/principals"

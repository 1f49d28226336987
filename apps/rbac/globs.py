"""The path grammar of policy rules (globs) and of the resources they are matched against.

A resource is `/`-separated segments of safe characters (`runners/lex-http/request/get`). A glob is the
same with two wildcards: `*` matches any characters, `/` included, and may stand anywhere; `+` matches
exactly one segment and must be a whole segment. Globs are anchored: `tasks/+` matches `tasks/7` but
neither `tasks` nor `tasks/7/logs`.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Letters, digits and `. _ - @ :` cover extension, runner, model (`llama3:8b`, `x@20240620`), user
# (`alice@example.com`) and task names; anything else (spaces, `%`, `?`, `#`, quotes) has no business in
# a resource and would make globs ambiguous to read.
SAFE_CHARACTERS = "A-Z a-z 0-9 . _ - @ :"
_SAFE_CHARACTER = re.compile(r"[A-Za-z0-9._@:-]")
MAX_LENGTH = 512


class GlobError(ValueError):
    """A glob or resource that breaks the grammar; the message says which part and why."""


def segment_problem(segment: str, *, wildcards: bool = False) -> str | None:
    """Why `segment` is not a valid path segment (or name), or None when it is."""
    if segment == "":
        return "empty segment (two slashes in a row, or a leading or trailing slash)"
    if segment in {".", ".."}:
        return f"segment {segment!r} is not allowed"
    if wildcards and segment == "+":
        return None
    for character in segment:
        if wildcards and character == "*":
            continue
        if wildcards and character == "+":
            return f"'+' must be a whole segment, not part of {segment!r}"
        if not _SAFE_CHARACTER.fullmatch(character):
            return f"character {character!r} in {segment!r} is not allowed (allowed: {SAFE_CHARACTERS})"
    return None


def _path_problem(path: object, *, wildcards: bool) -> str | None:
    kind = "glob" if wildcards else "resource"
    if not isinstance(path, str):
        return f"a {kind} must be a string"
    if path == "":
        return f"a {kind} must not be empty"
    if len(path) > MAX_LENGTH:
        return f"a {kind} must be at most {MAX_LENGTH} characters"
    if path.startswith("/") or path.endswith("/"):
        return f"a {kind} must not start or end with '/'"
    for segment in path.split("/"):
        problem = segment_problem(segment, wildcards=wildcards)
        if problem:
            return problem
    return None


def glob_problem(pattern: object) -> str | None:
    """Why `pattern` is not a valid glob, or None when it is."""
    return _path_problem(pattern, wildcards=True)


def resource_problem(resource: object) -> str | None:
    """Why `resource` is not a valid resource name (no wildcards), or None when it is."""
    return _path_problem(resource, wildcards=False)


def name_problem(name: object) -> str | None:
    """Why `name` cannot be a principal or policy name: names must be one resource segment."""
    if not isinstance(name, str):
        return "a name must be a string"
    if len(name) > 100:
        return "a name must be at most 100 characters"
    return segment_problem(name)


def name_is_valid(name: object) -> bool:
    return name_problem(name) is None


@lru_cache(maxsize=4096)
def glob_compile(pattern: str) -> re.Pattern[str]:
    """The anchored regular expression for a valid glob; raises GlobError for an invalid one.

    Cached: policies are few and evaluated often (the proxy evaluates cached snapshots per request).
    """
    problem = glob_problem(pattern)
    if problem:
        raise GlobError(problem)
    parts = []
    for segment in pattern.split("/"):
        if segment == "+":
            parts.append(r"[^/]+")
        else:
            parts.append(".*".join(re.escape(piece) for piece in segment.split("*")))
    return re.compile(r"\A" + "/".join(parts) + r"\Z")


def glob_match(pattern: str, resource: str) -> bool:
    return glob_compile(pattern).match(resource) is not None


def resource_join(collection: str, name: object) -> str:
    """`collection/name` when `name` is a valid segment, else the collection itself.

    Used to name the item a request is about to create: a malformed name is reported by validation,
    and authorizing it against the collection keeps the check well-defined meanwhile.
    """
    if isinstance(name, str) and name_is_valid(name):
        return f"{collection}/{name}"
    return collection

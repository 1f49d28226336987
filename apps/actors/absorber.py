"""Absorber: route an input (a URL, a path, any text) to the first handler whose pattern matches it.

Each handler names a regular expression (searched in the input) and a function or chain; the run's
payload is the actor's payload plus `{<payload_key>: input}` plus the pattern's named groups. Invoked
through the API or `legion actors absorb`; it has no schedule of its own.

Patterns are RE2, not Python's `re`: the input comes from callers, and a backtracking engine lets a pattern
like `(a+)+$` spend exponential time on a crafted input. RE2 matches in time linear in the input, and refuses
what needs backtracking (backreferences, lookaround) when the pattern is saved.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pydantic
import re2

from apps.actors.base import ActorType


class Handler(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    pattern: str = pydantic.Field(min_length=1, description="regular expression (RE2 syntax) searched in the input")
    function: str | None = pydantic.Field(None, description="qualified name of the function to run")
    chain: str | None = pydantic.Field(None, description="name of the chain to start")
    payload_key: str = pydantic.Field("input", min_length=1, description="the payload field the input goes in")

    @pydantic.field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            _compiled(pattern)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ValueError(f"not an RE2 regular expression: {reason}") from None
        return pattern

    @pydantic.model_validator(mode="after")
    def _one_target(self) -> Handler:
        if (self.function is None) == (self.chain is None):
            raise ValueError("a handler names a function or a chain (exactly one)")
        return self


class AbsorberOptions(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    handlers: list[Handler] = pydantic.Field(min_length=1, description="tried in order; the first match wins")


class Absorber(ActorType):
    kind = "absorber"
    Options = AbsorberOptions
    background = False
    needs_target = False


def absorber_route(options: AbsorberOptions, value: str) -> tuple[Handler, dict[str, Any]] | None:
    """The first handler whose pattern matches `value`, and the payload fields the match adds."""
    for handler in options.handlers:
        match = _compiled(handler.pattern).search(value)
        if match:
            groups = {name: text for name, text in match.groupdict().items() if text is not None}
            return handler, {handler.payload_key: value, **groups}
    return None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the caller's 400, not a line on the server's stderr
    return re2.compile(pattern, options=options)

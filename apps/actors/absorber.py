"""Absorber: route an input (a URL, a path, any text) to the first handler whose pattern matches it.

Each handler names a regular expression (searched in the input) and a function or chain; the run's
payload is the actor's payload plus `{<payload_key>: input}` plus the pattern's named groups. Invoked
through the API or `legion actors absorb`; it has no schedule of its own.
"""

from __future__ import annotations

import re
from typing import Any

import pydantic

from apps.actors.base import ActorType


class Handler(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    pattern: str = pydantic.Field(min_length=1, description="regular expression searched in the input")
    function: str | None = pydantic.Field(None, description="qualified name of the function to run")
    chain: str | None = pydantic.Field(None, description="name of the chain to start")
    payload_key: str = pydantic.Field("input", min_length=1, description="the payload field the input goes in")

    @pydantic.field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
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
        match = re.search(handler.pattern, value)
        if match:
            groups = {name: text for name, text in match.groupdict().items() if text is not None}
            return handler, {handler.payload_key: value, **groups}
    return None

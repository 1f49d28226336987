"""The size and shape every CEL source must have before the Rust parser sees it, measured by a small tokenizer.

The parser and evaluator of `common-expression-language` recurse on the syntax tree with no depth guard: a
chain of about 15,000 operators (`1 + 1 + …`, 30 KB) overflows the stack and kills the process with
SIGSEGV, which no `except` can catch. Nested comprehension macros multiply: four levels over ten-element
lists are 10,000 evaluations of the innermost body from a 150-character source. So a source is refused
here, naming the limit, when it is too long, nests brackets too deeply, strings too many operators
together, or nests comprehensions; each limit is a setting (`chains.cel.*`) well below where the
parser breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Macros that loop over a list or map; `has()` is a macro too but does not loop.
COMPREHENSIONS = frozenset({"all", "exists", "exists_one", "map", "filter"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
    |(?P<string>[rRbB]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
                           |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
    |(?P<number>\d[\w.]*)
    |(?P<name>[A-Za-z_]\w*)
    |(?P<open>[(\[{])
    |(?P<close>[)\]}])
    |(?P<operator>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.])
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Limits:
    """The `chains.cel.*` limits a source is held to."""

    max_length: int
    max_nesting: int
    max_operators: int
    max_comprehension_nesting: int


@dataclass(frozen=True)
class Shape:
    """What decides where a source may be evaluated: how many comprehensions it has and whether it calls
    `matches` (a regular expression compiled at run time, perhaps from the data)."""

    comprehensions: int
    matches: bool


class ShapeError(Exception):
    """A source over one of the limits; `offset` is where it crossed it (0-based), when there is a place."""

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def check_shape(source: str, limits: Limits) -> Shape:
    """Raise ShapeError naming the first limit `source` exceeds; return its shape otherwise."""
    if len(source) > limits.max_length:
        raise ShapeError(f"the expression is {len(source)} characters long; "
                         f"the limit (chains.cel.max_length) is {limits.max_length}")
    # Each open bracket remembers whether it opened a comprehension macro's arguments.
    stack: list[bool] = []
    operators = comprehensions = 0
    matches = False
    previous = ""
    tokens = [(m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(source) if m.lastgroup != "space"]
    for position, (kind, text, offset) in enumerate(tokens):
        following = tokens[position + 1][1] if position + 1 < len(tokens) else ""
        if kind == "open":
            macro = text == "(" and previous in COMPREHENSIONS and position >= 2 and tokens[position - 2][1] == "."
            stack.append(macro)
            comprehensions += macro
            if len(stack) > limits.max_nesting:
                raise ShapeError(f"brackets nest more than {limits.max_nesting} deep (chains.cel.max_nesting)",
                                 offset=offset)
            if sum(stack) > limits.max_comprehension_nesting:
                raise ShapeError(f"comprehensions ({', '.join(sorted(COMPREHENSIONS))}) nest more than "
                                 f"{limits.max_comprehension_nesting} deep (chains.cel.max_comprehension_nesting)",
                                 offset=offset)
        elif kind == "close" and stack:
            stack.pop()
        elif kind == "operator" or (kind == "name" and text == "in"):
            operators += 1
            if operators > limits.max_operators:
                raise ShapeError(f"the expression has more than {limits.max_operators} operators "
                                 "(chains.cel.max_operators)", offset=offset)
        elif kind == "name" and text == "matches" and following == "(":
            matches = True
        previous = text
    return Shape(comprehensions=comprehensions, matches=matches)

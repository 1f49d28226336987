"""CEL conditions and transformations: compiled and checked on save, evaluated when a trigger finishes.

We use `common-expression-language` (import name `cel`): a maintained binding of a Rust CEL engine,
pinned in base.txt. It evaluates far faster than the pure-Python `cel-python`, which matters on the
per-step path of every chain, and reports parse errors with line and column. Neither package has a
static type checker, so `expression_check` checks types by evaluating the expression against a
*witness*: a sample value built from the trigger's JSON schemas. A field the schema does not have
fails with its position; so does an operator applied to the wrong types. Objects with open schemas
(`dict[str, Any]`) cannot be checked field by field and are only compiled.

Nothing reaches the Rust engine unchecked: a source must first pass `expressions_shape` (size, nesting,
operators, nested comprehensions), and only an expression that is cheap by construction is evaluated in
this process; any other runs in `expressions_sandbox` under a time and memory budget. Every failure of
either is an ExpressionError: a 400 on save, a failed child run or a 422 from a webhook, never a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel
from django.conf import settings

from apps.chains.expressions_sandbox import Budget, SandboxError, sandbox_execute
from apps.chains.expressions_shape import COMPREHENSIONS, Limits, Shape, ShapeError, check_shape

_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")
_OPEN = object()  # marks a witness that contains an object of unknown shape

# In this process only what is cheap whatever the data: no loop (comprehension), no regular expression
# (`matches` compiles its pattern at run time, maybe from the data), a short source, and small data. Then
# every value it builds is at most a few dozen copies of the data and each operator runs once: well
# under a millisecond. Everything else pays a round trip to an evaluator process (30-110 µs against 10-15 µs
# here, docs/jobs.md), which large data pays anyway: turning 1 MB of JSON into CEL values takes about half
# a second, in whichever process does it.
INLINE_MAX_LENGTH = 256
INLINE_MAX_VALUES = 256
INLINE_MAX_TEXT = 16 * 1024


class ExpressionError(Exception):
    """An expression that does not compile, names an unknown field or misuses a type; line/column are 1-based."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"{message}{where}")
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Environment:
    """The variables an expression sees, as JSON schemas: `result`, `payload` and `index`."""

    result: dict[str, Any]
    payload: dict[str, Any]


@lru_cache(maxsize=4096)
def _compiled(source: str) -> tuple[cel.Program, frozenset[str], Shape]:
    """Check the source's shape, then compile it: once per process, since relationships are evaluated on every
    trigger and their sources rarely change."""
    shape = _shape(source)
    try:
        program = cel.compile(source)
    except ValueError as exc:
        text = str(exc)
        match = _POSITION.search(text)
        if match:
            raise ExpressionError(match.group(3).strip(), line=int(match.group(1)), column=int(match.group(2))) from exc
        raise ExpressionError(text.splitlines()[0]) from exc
    return program, frozenset(program.variables()), shape


def _shape(source: str) -> Shape:
    config = settings.CONFIG
    limits = Limits(
        max_length=config["chains.cel.max_length"], max_nesting=config["chains.cel.max_nesting"],
        max_operators=config["chains.cel.max_operators"],
        max_comprehension_nesting=config["chains.cel.max_comprehension_nesting"],
    )
    try:
        return check_shape(source, limits)
    except ShapeError as exc:
        if exc.offset is None:
            raise ExpressionError(exc.message) from exc
        line, column = _position(source, exc.offset)
        raise ExpressionError(exc.message, line=line, column=column) from exc


def expression_variables(source: str) -> frozenset[str]:
    """The variables `source` reads (after the shape check and compile): not the names its comprehensions bind."""
    return _compiled(source)[1] - _bound_names(source)


def expression_check(source: str, environment: Environment, *, expect: str) -> None:
    """Compile and type-check `source`; `expect` is "bool" for conditions and "object" for transformations."""
    names = expression_variables(source)
    unknown = names - {"result", "payload", "index"}
    if unknown:
        name = sorted(unknown)[0]
        line, column = _locate(source, name, member=False)
        raise ExpressionError(f"unknown variable '{name}' (use result, payload or index)", line=line, column=column)
    _check_paths(source, {"result": environment.result, "payload": environment.payload})
    samples = {"result": _witness(environment.result), "payload": _witness(environment.payload), "index": 0}
    if _contains_open({name: samples[name] for name in names if name in samples}):
        return
    try:
        value = _execute(source, samples)
    except KeyError as exc:
        name = str(exc.args[0]) if exc.args else "?"
        line, column = _locate(source, name, member=True)
        raise ExpressionError(f"no field '{name}' in the trigger's data", line=line, column=column) from exc
    except TypeError as exc:
        raise ExpressionError(f"type error: {str(exc).split('.')[0]}", line=1, column=1) from exc
    except ExpressionError:
        raise  # over its time or memory budget on a one-element sample: it would be on real data
    except Exception:  # noqa: BLE001 - IndexError, OverflowError, …: the values decide, which a sample cannot
        return
    if expect == "bool" and not isinstance(value, bool):
        raise ExpressionError(f"a condition must be true or false, this gives {type(value).__name__}", line=1, column=1)
    if expect == "object" and not _is_object_or_objects(value):
        raise ExpressionError("a transformation must build an object (or a list of objects)", line=1, column=1)


def expression_evaluate(source: str, variables: dict[str, Any]) -> Any:
    """Evaluate an expression; every failure, budgets included, is an ExpressionError without a position."""
    try:
        return _execute(source, variables)
    except ExpressionError:
        raise
    except KeyError as exc:
        raise ExpressionError(f"no field {exc} in the data") from exc
    except Exception as exc:  # CEL's runtime errors (IndexError, OverflowError, …) are the expression's
        raise ExpressionError(str(exc).split(". ")[0]) from exc


def _execute(source: str, variables: dict[str, Any]) -> Any:
    """Run `source` on the variables it names: here when it is cheap by construction, else in an evaluator process.

    Raises what `cel` raises, or ExpressionError for a bad source or an exhausted budget.
    """
    program, names, shape = _compiled(source)
    used = {name: value for name, value in variables.items() if name in names}
    if not shape.comprehensions and not shape.matches and len(source) <= INLINE_MAX_LENGTH and _small(used):
        return program.execute(used)
    config = settings.CONFIG
    # The pickled result is a rough measure of its JSON; the exact check is made where a payload is built.
    budget = Budget(timeout_ms=config["chains.cel.timeout_ms"], memory_mb=config["chains.cel.memory_mb"],
                    evaluators=config["chains.cel.evaluators"],
                    max_result_bytes=2 * config["chains.max_payload_bytes"])
    try:
        return sandbox_execute(source, used, budget)
    except SandboxError as exc:
        raise ExpressionError(str(exc)) from exc


def _small(variables: dict[str, Any]) -> bool:
    """At most INLINE_MAX_VALUES values and INLINE_MAX_TEXT characters of text; stops as soon as it is not."""
    count, text = 0, 0
    pending = list(variables.values())
    while pending:
        value = pending.pop()
        count += 1
        if isinstance(value, str | bytes):
            text += len(value)
        elif isinstance(value, dict | list | tuple):
            if count + len(pending) + len(value) > INLINE_MAX_VALUES:
                return False  # judged before it is walked: a million-element list costs nothing here
            pending.extend(value.values() if isinstance(value, dict) else value)
        if count > INLINE_MAX_VALUES or text > INLINE_MAX_TEXT:
            return False
    return True


_BINDING = re.compile(rf"\.(?:{'|'.join(sorted(COMPREHENSIONS))})\(\s*([A-Za-z_]\w*)\s*,")
_PATH = re.compile(r"\b(result|payload)((?:\s*\.\s*[A-Za-z_]\w*)+)")
_SEGMENT = re.compile(r"\.\s*([A-Za-z_]\w*)")
_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")


def _check_paths(source: str, schemas: dict[str, dict[str, Any]]) -> None:
    """Walk every `result.a.b` / `payload.a.b` in the source through the schema, branch taken or not.

    Evaluating the witness alone misses fields behind a short-circuit (`false && result.typo`).
    String literals are blanked first so a dotted word inside quotes is not read as a path.
    """
    code = _STRING.sub(lambda m: " " * len(m.group(0)), source)
    for match in _PATH.finditer(code):
        schema = schemas[match.group(1)]
        defs = schema.get("$defs", {})
        for segment in _SEGMENT.finditer(match.group(2)):
            end = match.start(2) + segment.end()
            if code[end:].lstrip().startswith("("):
                break  # a method call (`result.body.startsWith(...)`), not a field
            schema = _resolve(schema, defs)
            properties = schema.get("properties")
            if schema.get("type") != "object" or not properties or schema.get("additionalProperties") not in (
                None, False,
            ):
                break  # a list, a scalar or an open object: the witness evaluation judges the rest
            name = segment.group(1)
            if name not in properties:
                line, column = _position(source, match.start(2) + segment.start(1))
                raise ExpressionError(f"no field '{name}' in the trigger's data", line=line, column=column)
            schema = properties[name]


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            if len(options) == 1:
                return _resolve(options[0], defs)
    return schema


def _witness(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A sample value of the schema's shape; numbers are 1 so a division by a field is not a false alarm."""
    defs = {**(defs or {}), **schema.get("$defs", {})}
    if "$ref" in schema:
        return _witness(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _witness(options[0], defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties")
        if not properties:
            return _OPEN
        if schema.get("additionalProperties") not in (None, False):
            return _OPEN
        return {name: _witness(sub, defs) for name, sub in properties.items()}
    if kind == "array":
        return [_witness(schema.get("items", {}), defs)]
    return {"string": "x", "integer": 1, "number": 1.0, "boolean": True, "null": None}.get(str(kind), _OPEN)


def _contains_open(value: Any) -> bool:
    if value is _OPEN:
        return True
    if isinstance(value, dict):
        return any(_contains_open(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_open(v) for v in value)
    return False


def _is_object_or_objects(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and all(isinstance(v, dict) for v in value))


def _bound_names(source: str) -> set[str]:
    """Names bound by comprehension macros (`x` in `items.map(x, x * 2)`), which `variables()` also lists."""
    return set(_BINDING.findall(source))


def _locate(source: str, name: str, *, member: bool) -> tuple[int, int]:
    pattern = rf"\.\s*{re.escape(name)}\b" if member else rf"\b{re.escape(name)}\b"
    match = re.search(pattern, source) or re.search(rf"\b{re.escape(name)}\b", source)
    offset = match.start() if match else 0
    if match and member and source[offset] == ".":
        offset += 1
    return _position(source, offset)


def _position(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a 0-based offset."""
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column

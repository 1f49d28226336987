"""CEL conditions and transformations: compiled and checked on save, evaluated when a trigger finishes.

We use `common-expression-language` (import name `cel`): a maintained binding of a Rust CEL engine,
pinned in base.txt. It evaluates far faster than the pure-Python `cel-python`, which matters on the
per-step path of every chain, and reports parse errors with line and column. Neither package has a
static type checker, so `expression_check` checks types by evaluating the expression against a
*witness*: a sample value built from the trigger's JSON schemas. A field the schema does not have
fails with its position; so does an operator applied to the wrong types. Objects with open schemas
(`dict[str, Any]`) cannot be checked field by field and are only compiled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel

_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")
_OPEN = object()  # marks a witness that contains an object of unknown shape


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
def expression_compile(source: str) -> cel.Program:
    """Compile once per process; relationships are evaluated on every trigger, their sources rarely change."""
    try:
        return cel.compile(source)
    except ValueError as exc:
        text = str(exc)
        match = _POSITION.search(text)
        if match:
            raise ExpressionError(match.group(3).strip(), line=int(match.group(1)), column=int(match.group(2))) from exc
        raise ExpressionError(text.splitlines()[0]) from exc


def expression_check(source: str, environment: Environment, *, expect: str) -> None:
    """Compile and type-check `source`; `expect` is "bool" for conditions and "object" for transformations."""
    program = expression_compile(source)
    unknown = set(program.variables()) - {"result", "payload", "index"} - _bound_names(source)
    if unknown:
        name = sorted(unknown)[0]
        line, column = _locate(source, name, member=False)
        raise ExpressionError(f"unknown variable '{name}' (use result, payload or index)", line=line, column=column)
    _check_paths(source, {"result": environment.result, "payload": environment.payload})
    samples = {"result": _witness(environment.result), "payload": _witness(environment.payload), "index": 0}
    witness = {name: samples[name] for name in program.variables() if name in samples}
    if _contains_open(witness):
        return
    try:
        value = program.execute(witness)
    except KeyError as exc:
        name = str(exc.args[0]) if exc.args else "?"
        line, column = _locate(source, name, member=True)
        raise ExpressionError(f"no field '{name}' in the trigger's data", line=line, column=column) from exc
    except TypeError as exc:
        raise ExpressionError(f"type error: {str(exc).split('.')[0]}", line=1, column=1) from exc
    except (ValueError, ZeroDivisionError, RuntimeError):
        return  # depends on the values, not the types: the sample cannot decide it
    if expect == "bool" and not isinstance(value, bool):
        raise ExpressionError(f"a condition must be true or false, this gives {type(value).__name__}", line=1, column=1)
    if expect == "object" and not _is_object_or_objects(value):
        raise ExpressionError("a transformation must build an object (or a list of objects)", line=1, column=1)


def expression_evaluate(source: str, variables: dict[str, Any]) -> Any:
    """Evaluate a compiled expression; runtime failures become ExpressionError without a position."""
    try:
        return expression_compile(source).execute(variables)
    except KeyError as exc:
        raise ExpressionError(f"no field {exc} in the data") from exc
    except (TypeError, ValueError, ZeroDivisionError, RuntimeError) as exc:
        raise ExpressionError(str(exc).split(". ")[0]) from exc


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
                offset = match.start(2) + segment.start(1)
                line = source.count("\n", 0, offset) + 1
                column = offset - (source.rfind("\n", 0, offset) + 1) + 1
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
    return set(re.findall(r"\.(?:all|exists|exists_one|map|filter)\(\s*([A-Za-z_]\w*)\s*,", source))


def _locate(source: str, name: str, *, member: bool) -> tuple[int, int]:
    pattern = rf"\.\s*{re.escape(name)}\b" if member else rf"\b{re.escape(name)}\b"
    match = re.search(pattern, source) or re.search(rf"\b{re.escape(name)}\b", source)
    offset = match.start() if match else 0
    if match and member and source[offset] == ".":
        offset += 1
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column

"""Small readers that check a decoded JSON request field by field and name the offending path on failure."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import jsonschema  # type: ignore[import-untyped]
import jsonschema.exceptions  # type: ignore[import-untyped]

from apps.core.bodies import json_too_deep
from proxy.errors import invalid
from proxy.types import Cache, ImagePart, Message, Tool, ToolChoice, ToolResultPart

T = TypeVar("T")
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", list: "an array",
               dict: "an object"}
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CHOICE_MODES: dict[str | None, Literal["auto", "none", "any"]] = {None: "auto", "auto": "auto", "none": "none",
                                                                  "required": "any"}


@dataclass(frozen=True)
class Limits:
    """What one request may carry; the dialects enforce these before anything is routed."""

    max_body_bytes: int = 16 * 1024 * 1024
    max_messages: int = 2000
    max_tools: int = 256
    max_json_depth: int = 64


def body_decode(body: bytes, limits: Limits) -> dict[str, Any]:
    """The request body as a JSON object, or a ProxyError naming why not. Its size was bounded while it was read
    (proxy/consumers.py); its depth is bounded here, which also bounds every tool's parameter schema."""
    if json_too_deep(body, limits.max_json_depth):
        raise invalid(f"request body nests deeper than {limits.max_json_depth} levels (proxy.max_json_depth)")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise invalid("request body must be a JSON object")
    return data


def _check(value: Any, kind: type | tuple[type, ...], path: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python but never a number in JSON requests; ints are fine where floats are wanted.
    ok = any(
        isinstance(value, k) and not (k in (int, float) and isinstance(value, bool))
        or (k is float and isinstance(value, int) and not isinstance(value, bool))
        for k in kinds
    )
    if not ok:
        wanted = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise invalid(f"'{path}' must be {wanted}, got {_json_type(value)}", param=path)
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", int: "an integer", float: "a number", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def required(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str = "") -> Any:
    path = f"{path}.{key}" if path else key
    if key not in obj or obj[key] is None:
        raise invalid(f"'{path}' is required", param=path)
    return _check(obj[key], kind, path)


def optional(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str = "") -> Any:
    """The value at `key`, None when absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    return _check(value, kind, f"{path}.{key}" if path else key)


def number_in(obj: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = optional(obj, key, float)
    if value is not None and not low <= value <= high:
        raise invalid(f"'{key}' must be between {low} and {high}, got {value}", param=key)
    return None if value is None else float(value)


def positive_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = optional(obj, key, int)
    if value is not None and value <= 0:
        raise invalid(f"'{key}' must be a positive integer, got {value}", param=key)
    return value


def messages_list(obj: Mapping[str, Any], limits: Limits) -> list[Any]:
    messages = required(obj, "messages", list)
    if not messages:
        raise invalid("'messages' must not be empty", param="messages")
    if len(messages) > limits.max_messages:
        raise invalid(f"'messages' has {len(messages)} entries; the limit is {limits.max_messages}", param="messages")
    return messages


def tool_build(name: Any, description: Any, schema: Any, path: str) -> Tool:
    """A canonical tool after checking its name and that its parameter schema is a valid JSON Schema object."""
    _check(name, str, f"{path}.name")
    if not _TOOL_NAME.match(name):
        raise invalid(f"'{path}.name' must match {_TOOL_NAME.pattern}, got '{name}'", param=f"{path}.name")
    if description is not None:
        _check(description, str, f"{path}.description")
    schema = {"type": "object", "properties": {}} if schema is None else schema
    _check(schema, dict, f"{path}.schema")
    if schema.get("type", "object") != "object":
        raise invalid(f"'{path}' schema must describe an object, got type '{schema.get('type')}'", param=path)
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise invalid(f"'{path}' is not a valid JSON Schema at {where}: {exc.message}", param=path) from None
    return Tool(name=name, description=description or "", input_schema=schema)


def tools_limit(tools: list[Any], limits: Limits, path: str = "tools") -> None:
    if len(tools) > limits.max_tools:
        raise invalid(f"'{path}' has {len(tools)} entries; the limit is {limits.max_tools}", param=path)


def stop_list(value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    _check(value, list, path)
    for index, item in enumerate(value):
        _check(item, str, f"{path}[{index}]")
    return tuple(value)


def image_part(url: str, path: str, cache: Cache = None) -> ImagePart:
    """An image by https URL or inline from a base64 `data:` URL; any other scheme is a 400 naming `path`.

    Providers fetch URL images themselves: a `file:`, `http:` or internal address would have them (or a local
    model's server) read what the caller should not reach, so only https leaves the proxy.
    """
    if url[:8].lower() == "https://":
        return ImagePart(url=url, cache=cache)
    header, _, data = url.partition(",")
    if not header.startswith("data:") or not header.endswith(";base64") or not data:
        raise invalid(f"'{path}' must be an https URL or a base64 data URL", param=path)
    return ImagePart(media_type=header[5:-7], data=data, cache=cache)


def tool_result_append(messages: list[Message], result: ToolResultPart) -> None:
    """Adds a tool result as canonical turns carry it: consecutive results answer one assistant turn, so they
    share one user turn."""
    if messages and messages[-1].role == "user" and isinstance(messages[-1].content[-1], ToolResultPart):
        messages[-1] = Message("user", (*messages[-1].content, result))
    else:
        messages.append(Message("user", (result,)))


def tool_choice_mode(raw: Any) -> ToolChoice | None:
    """OpenAI's string tool choices (absent is auto) in both its dialects; None for an object the dialect reads."""
    mode = _CHOICE_MODES.get(raw) if raw is None or isinstance(raw, str) else None
    return ToolChoice(mode) if mode is not None else None

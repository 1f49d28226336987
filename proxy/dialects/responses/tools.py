"""Responses tools -> canonical tools: namespaces flattened, custom (freeform) tools as one-string functions,
hosted web search left out and reported, every other hosted tool refused."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proxy.dialects.fields import Limits, optional, required, tool_build, tool_choice_mode, tools_limit
from proxy.errors import invalid
from proxy.types import Tool, ToolChoice

# Codex sends `web_search` with every request to a model it has no metadata for; a model behind Legion cannot
# search, so the tool is left out (reported in `legion.dropped_fields`) rather than failing every turn.
DROPPED_TYPES = frozenset({"web_search", "web_search_preview", "web_search_2025_08_26",
                           "web_search_preview_2025_03_11"})
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")  # what a namespace may hold that a tool name may not
# A custom tool's model-facing form: one string argument, rendered back as a `custom_tool_call` with its `input`.
CUSTOM_SCHEMA: Mapping[str, Any] = {"type": "object", "properties": {"input": {"type": "string"}},
                                    "required": ["input"], "additionalProperties": False}


@dataclass(frozen=True)
class Origin:
    """What a canonical tool name stands for in the client's terms, to render the model's calls back."""

    name: str
    namespace: str | None = None
    custom: bool = False


@dataclass
class ToolSet:
    """Every tool a request declares (top-level `tools` and `additional_tools` input items), by canonical name.

    `add` every list, then `build` once: names are given only when all are known, so that a top-level tool keeps
    its name whatever order it was declared in.
    """

    declared: list[tuple[Tool, Origin]] = field(default_factory=list)
    tools: tuple[Tool, ...] = ()
    origins: dict[str, Origin] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def add(self, raw: list[Any], path: str, limits: Limits, namespace: str | None = None) -> None:
        tools_limit(raw, limits, path)
        for index, item in enumerate(raw):
            where = f"{path}[{index}]"
            if not isinstance(item, dict):
                raise invalid(f"'{where}' must be an object", param=where)
            kind = required(item, "type", str, where)
            if kind == "namespace" and namespace is None:
                name = required(item, "name", str, where)
                self.add(required(item, "tools", list, where), f"{where}.tools", limits, name)
            elif kind == "function":
                tool = tool_build(item.get("name"), item.get("description"), item.get("parameters"), where)
                self.declared.append((tool, Origin(tool.name, namespace)))
            elif kind == "custom":
                tool = tool_build(item.get("name"), _custom_description(item, where), CUSTOM_SCHEMA, where)
                self.declared.append((tool, Origin(tool.name, namespace, custom=True)))
            elif kind in DROPPED_TYPES and namespace is None:
                self.dropped.append(f"{where}:{kind}")
            else:
                supported = "'function', 'custom'" + (" and 'namespace'" if namespace is None else "")
                raise invalid(f"Invalid value: '{kind}'. Supported values are: {supported} (Legion runs no hosted "
                              "tools)", param=f"{where}.type")
        if len(self.declared) > limits.max_tools:
            raise invalid(f"the request declares {len(self.declared)} tools; the limit is {limits.max_tools}",
                          param=path)

    def build(self) -> None:
        """Names every tool: its own, unless another has it; then a namespaced one is qualified by its namespace."""
        names: dict[int, str] = {}
        for index in sorted(range(len(self.declared)), key=lambda i: self.declared[i][1].namespace is not None):
            tool, origin = self.declared[index]
            name = tool.name
            if name in self.origins and origin.namespace:
                name = f"{_NAME_UNSAFE.sub('_', origin.namespace)}__{tool.name}"[:64]
            if name in self.origins:
                raise invalid(f"tool names must be unique; '{tool.name}' is declared twice", param="tools")
            self.origins[name], names[index] = origin, name
        self.tools = tuple(dataclasses.replace(tool, name=names[i]) for i, (tool, _) in enumerate(self.declared))

    def canonical(self, name: str, namespace: str | None = None) -> str:
        """The canonical name of a tool a passed-back call names (the name itself when no longer declared)."""
        for canonical, origin in self.origins.items():
            if origin.name == name and (namespace is None or origin.namespace == namespace):
                return canonical
        return name

    def choice(self, raw: Any) -> ToolChoice:
        if (mode := tool_choice_mode(raw)) is not None:
            return mode
        if isinstance(raw, dict) and raw.get("type") in ("function", "custom"):
            return ToolChoice("tool", self.canonical(required(raw, "name", str, "tool_choice")))
        raise invalid("'tool_choice' must be auto, none, required or a named function or custom tool",
                      param="tool_choice")


def _custom_description(item: Mapping[str, Any], path: str) -> str:
    """The tool's description, plus the grammar its input must follow (the model is not constrained by it here)."""
    description = optional(item, "description", str, path) or ""
    fmt = optional(item, "format", dict, path) or {}
    if fmt.get("type", "text") == "text":
        return description
    if fmt.get("type") != "grammar":
        raise invalid(f"'{path}.format.type' must be text or grammar", param=f"{path}.format.type")
    syntax = optional(fmt, "syntax", str, f"{path}.format") or "lark"
    definition = required(fmt, "definition", str, f"{path}.format")
    return f"{description}\n\nPass the whole input as `input`; it must match this {syntax} grammar:\n{definition}"

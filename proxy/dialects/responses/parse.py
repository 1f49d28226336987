"""OpenAI Responses request bodies -> canonical requests: the input items as turns, the top-level options, and
the stateful features Legion refuses because it keeps no responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proxy.dialects.fields import (
    Limits,
    body_decode,
    image_part,
    number_in,
    optional,
    positive_int,
    required,
    tool_result_append,
)
from proxy.dialects.openai import EFFORT_BUDGET, NATIVE_FIELDS, native_fields
from proxy.dialects.responses.tools import ToolSet
from proxy.errors import invalid
from proxy.types import (
    ChatRequest,
    ImagePart,
    Message,
    Part,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolUsePart,
)

# Responses efforts beyond chat's: `none` asks for no reasoning, `xhigh` for the most there is.
EFFORT = {**EFFORT_BUDGET, "xhigh": 32768, "none": None}
# `store` is left out: to Responses it means keeping the response for `previous_response_id`, which Legion
# never does; forwarded to chat completions it would mean something else (OpenAI keeping the completion).
NATIVE = tuple(name for name in NATIVE_FIELDS if name != "store")
STATEFUL = {
    "previous_response_id": "Legion keeps no responses, so 'previous_response_id' cannot be resolved: send the "
                            "whole conversation in 'input' (with store false)",
    "conversation": "Legion keeps no conversations, so 'conversation' cannot be resolved: send the whole "
                    "conversation in 'input' (with store false)",
    "prompt": "Legion keeps no prompt templates, so 'prompt' cannot be resolved: send 'instructions' and 'input'",
}
# A reasoning item's `encrypted_content` is the provider's thinking signature under this prefix, so that only a
# signature Legion relayed is ever sent back upstream as one (a real OpenAI blob would be refused there).
SIGNED = "legion-signature:"
# Fields passed on as they are (or, like `store` and `include`, taken and not acted on): only their type is
# checked, so that a bad value is a 400 naming it here rather than an upstream's error or a broken Response.
CHECKED = (("include", list), ("store", bool), ("parallel_tool_calls", bool), ("metadata", dict),
           ("prompt_cache_key", str), ("service_tier", str), ("safety_identifier", str))
ECHOED = ("instructions", "metadata", "temperature", "top_p", "max_output_tokens", "reasoning", "text", "user",
          "truncation", "prompt_cache_key", "service_tier", "safety_identifier")


@dataclass(frozen=True)
class ResponsesRequest:
    """The canonical request, plus what rendering the answer in Responses terms needs: the tools' origins and the
    request fields a Response object repeats."""

    chat: ChatRequest
    tools: ToolSet
    echo: Mapping[str, Any] = field(default_factory=dict)


def request_parse(body: bytes, limits: Limits) -> ResponsesRequest:
    data = body_decode(body, limits)
    model = required(data, "model", str)
    _refuse_stateful(data)
    for key, kind in CHECKED:
        optional(data, key, kind)
    items = _items(data, limits)
    toolset = ToolSet()
    toolset.add(optional(data, "tools", list) or [], "tools", limits)
    for index, item in enumerate(items):
        if item.get("type") == "additional_tools":  # Codex declares its tools this way for its own models
            toolset.add(required(item, "tools", list, f"input[{index}]"), f"input[{index}].tools", limits)
    toolset.build()
    system, messages = _Turns(toolset).read(items, optional(data, "instructions", str))
    reasoning = optional(data, "reasoning", dict) or {}
    text = optional(data, "text", dict) or {}
    verbosity = optional(text, "verbosity", str, "text")
    native = {**data, "verbosity": verbosity}
    if not toolset.tools:
        native.pop("parallel_tool_calls", None)  # OpenAI refuses it on a request without tools
    chat = ChatRequest(
        model=model, messages=messages, system=system, tools=toolset.tools,
        tool_choice=toolset.choice(data.get("tool_choice")),
        max_tokens=positive_int(data, "max_output_tokens"),
        temperature=number_in(data, "temperature", 0, 2),
        top_p=number_in(data, "top_p", 0, 1),
        stream=bool(optional(data, "stream", bool)),
        include_usage=True,
        response_format=_format(optional(text, "format", dict, "text")),
        thinking_budget=_budget(reasoning),
        user=optional(data, "user", str) or "",
        native=native_fields(native, NATIVE),
        dropped=tuple(toolset.dropped),
    )
    echo = {key: data[key] for key in ECHOED if data.get(key) is not None}
    echo.update(parallel_tool_calls=data.get("parallel_tool_calls") is not False,
                tool_choice=data.get("tool_choice") or "auto", tools=data.get("tools") or [])
    return ResponsesRequest(chat, toolset, echo)


def _refuse_stateful(data: Mapping[str, Any]) -> None:
    for key, message in STATEFUL.items():
        if data.get(key) is not None:
            raise invalid(message, param=key)
    if optional(data, "background", bool):
        raise invalid("background responses are not supported: Legion keeps no responses to poll; stream instead",
                      param="background")


def _items(data: Mapping[str, Any], limits: Limits) -> list[dict[str, Any]]:
    raw = required(data, "input", (str, list))
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    if not raw:
        raise invalid("'input' must not be empty", param="input")
    if len(raw) > limits.max_messages:
        raise invalid(f"'input' has {len(raw)} items; the limit is {limits.max_messages}", param="input")
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise invalid(f"'input[{index}]' must be an object", param=f"input[{index}]")
    return raw


def _budget(reasoning: Mapping[str, Any]) -> int | None:
    effort = optional(reasoning, "effort", str, "reasoning")
    if effort is None:
        return None
    if effort not in EFFORT:
        raise invalid(f"'reasoning.effort' must be one of {', '.join(EFFORT)}, got '{effort}'",
                      param="reasoning.effort")
    return EFFORT[effort]


def _format(fmt: Mapping[str, Any] | None) -> ResponseFormat | None:
    if fmt is None:
        return None
    kind = required(fmt, "type", str, "text.format")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat("json")
    if kind == "json_schema":
        return ResponseFormat("json_schema", schema=required(fmt, "schema", dict, "text.format"),
                              name=optional(fmt, "name", str, "text.format") or "response")
    raise invalid(f"'text.format.type' must be text, json_object or json_schema, got '{kind}'",
                  param="text.format.type")


class _Turns:
    """Input items into (leading system prompt, canonical turns).

    System and developer messages before the first turn are the system prompt, later ones stay where they are.
    An assistant's reasoning, text and calls are one assistant turn; the outputs of its calls one user turn.
    """

    def __init__(self, toolset: ToolSet) -> None:
        self.toolset = toolset
        self.system: list[TextPart] = []
        self.messages: list[Message] = []

    def read(self, items: list[dict[str, Any]], instructions: str | None,
             ) -> tuple[tuple[TextPart, ...], tuple[Message, ...]]:
        if instructions:
            self.system.append(TextPart(instructions))
        for index, item in enumerate(items):
            self._item(item, f"input[{index}]")
        if not any(message.role != "system" for message in self.messages):
            raise invalid("'input' needs at least one user or assistant item", param="input")
        return tuple(self.system), tuple(self.messages)

    def _item(self, item: dict[str, Any], path: str) -> None:
        kind = optional(item, "type", str, path) or "message"
        if kind == "message":
            self._message(item, path)
        elif kind in ("function_call", "custom_tool_call"):
            self._assistant((self._call(item, path, kind),))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            tool_result_append(self.messages, ToolResultPart(
                tool_use_id=required(item, "call_id", str, path),
                content=_content(required(item, "output", (str, list), path), f"{path}.output", user=True)))
        elif kind == "reasoning":
            self._assistant(_reasoning(item, path))
        elif kind == "item_reference":
            raise invalid("Legion keeps no items, so an 'item_reference' cannot be resolved: send the item itself",
                          param=f"{path}.type")
        elif kind != "additional_tools":  # read by the ToolSet
            raise invalid(f"'{path}.type' '{kind}' is not supported", param=f"{path}.type")

    def _message(self, item: dict[str, Any], path: str) -> None:
        role = required(item, "role", str, path)
        where = f"{path}.content"
        content = required(item, "content", (str, list), path)
        if role in ("system", "developer"):
            parts = tuple(p for p in _content(content, where, user=False) if isinstance(p, TextPart))
            if self.messages:
                self.messages.append(Message("system", parts))
            else:
                self.system.extend(part for part in parts if part.text)
        elif role == "user":
            self.messages.append(Message("user", _content(content, where, user=True) or (TextPart(""),)))
        elif role == "assistant":
            texts = tuple(p for p in _content(content, where, user=False) if isinstance(p, TextPart) and p.text)
            self._assistant(texts or (TextPart(""),))
        else:
            raise invalid(f"'{path}.role' must be user, assistant, system or developer, got '{role}'",
                          param=f"{path}.role")

    def _assistant(self, parts: tuple[Part, ...]) -> None:
        """An assistant item joins the assistant turn in progress: one turn's reasoning, text and calls."""
        if not parts:
            return
        if self.messages and self.messages[-1].role == "assistant":
            self.messages[-1] = Message("assistant", (*self.messages[-1].content, *parts))
        else:
            self.messages.append(Message("assistant", parts))

    def _call(self, item: dict[str, Any], path: str, kind: str) -> ToolUsePart:
        name = self.toolset.canonical(required(item, "name", str, path), optional(item, "namespace", str, path))
        call_id = required(item, "call_id", str, path)
        if kind == "custom_tool_call":
            return ToolUsePart(id=call_id, name=name, input={"input": required(item, "input", str, path)})
        arguments = required(item, "arguments", str, path) or "{}"
        try:
            decoded = json.loads(arguments)
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            raise invalid(f"'{path}.arguments' must be a JSON object", param=f"{path}.arguments")
        return ToolUsePart(id=call_id, name=name, input=decoded)


def _content(raw: str | list[Any], path: str, *, user: bool) -> tuple[TextPart | ImagePart, ...]:
    """A message's content, or a tool output: a string or parts. Images only where a user turn can carry them."""
    if isinstance(raw, str):
        return (TextPart(raw),)
    parts: list[TextPart | ImagePart] = []
    for index, part in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(part, dict):
            raise invalid(f"'{where}' must be an object", param=where)
        kind = required(part, "type", str, where)
        if kind in ("input_text", "output_text"):
            parts.append(TextPart(required(part, "text", str, where)))
        elif kind == "refusal":
            parts.append(TextPart(required(part, "refusal", str, where)))
        elif kind == "input_image" and user:
            parts.append(_image(part, where))
        else:
            allowed = "input_text, input_image" if user else "input_text, output_text, refusal"
            raise invalid(f"'{where}.type' '{kind}' is not supported here ({allowed} are)", param=f"{where}.type")
    return tuple(parts)


def _image(part: Mapping[str, Any], path: str) -> ImagePart:
    url = optional(part, "image_url", str, path)
    if url is None:
        raise invalid(f"'{path}.image_url' is required (Legion keeps no files, so 'file_id' cannot be resolved)",
                      param=f"{path}.image_url")
    return image_part(url, f"{path}.image_url")


def _reasoning(item: Mapping[str, Any], path: str) -> tuple[Part, ...]:
    """A reasoning item passed back, as thinking; whatever it holds that Legion cannot use is ignored, never a 400:
    clients send back every item they were given."""
    text = _reasoning_text(item.get("content")) or _reasoning_text(item.get("summary"))  # the raw text if any
    encrypted = item.get("encrypted_content")
    signature = encrypted[len(SIGNED):] if isinstance(encrypted, str) and encrypted.startswith(SIGNED) else ""
    return (ThinkingPart(text, signature),) if text or signature else ()


def _reasoning_text(parts: Any) -> str:
    if not isinstance(parts, list):
        return ""
    return "\n\n".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str) and p["text"])

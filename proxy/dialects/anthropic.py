"""Anthropic messages <-> canonical types: request parsing, responses, the full event stream and error bodies."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

from proxy.dialects.fields import (
    Limits,
    body_decode,
    image_part,
    messages_list,
    number_in,
    optional,
    positive_int,
    required,
    stop_list,
    tool_build,
    tools_limit,
)
from proxy.errors import ErrorKind, ProxyError, invalid
from proxy.streaming.sse import KEEPALIVE, sse_event
from proxy.types import (
    Cache,
    ChatRequest,
    ChatResponse,
    ClientEvent,
    Finished,
    ImagePart,
    KeepAlive,
    Message,
    Native,
    Part,
    ResponseFormat,
    RouteInfo,
    Started,
    StopReason,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResultPart,
    ToolUsePart,
    Usage,
)

STOP = {
    StopReason.END: "end_turn", StopReason.LENGTH: "max_tokens", StopReason.STOP_SEQUENCE: "stop_sequence",
    StopReason.TOOL_USE: "tool_use", StopReason.REFUSAL: "refusal",
}
# Anthropic request fields Legion has no canonical form for, forwarded verbatim to Anthropic upstreams and left
# out (and reported) elsewhere. The one list of them: a field not here is ignored, as the API ignores none.
NATIVE_FIELDS = ("thinking", "output_config", "context_management", "container", "mcp_servers", "service_tier",
                 "top_k", "inference_geo")
TRANSLATED = frozenset({"thinking", "output_config"})  # into the thinking budget and the response format
NATIVE_MESSAGE_FIELDS = ("output_config",)  # per-turn control (beta per-turn-control-2026-07-01)
NATIVE_TOOL_FIELDS = ("strict", "defer_loading", "input_examples", "eager_input_streaming")
# `output_config.effort` as a thinking budget for providers that take one (adaptive thinking elsewhere).
EFFORT_BUDGET = {"low": 1024, "medium": 4096, "high": 16384, "max": 32768}
ERROR_TYPE = {
    ErrorKind.UNAUTHORIZED: "authentication_error", ErrorKind.FORBIDDEN: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error", ErrorKind.REQUEST_TOO_LARGE: "request_too_large",
    ErrorKind.RATE_LIMITED: "rate_limit_error", ErrorKind.OVERLOADED: "overloaded_error",
    ErrorKind.EXHAUSTED: "overloaded_error", ErrorKind.TIMEOUT: "timeout_error",
}


class AnthropicDialect:
    name = "anthropic"

    def chat_parse(self, body: bytes, limits: Limits, headers: Mapping[str, str] | None = None, *,
                   counting: bool = False) -> ChatRequest:
        """`counting` parses a count_tokens body, which has no max_tokens and never streams."""
        data = body_decode(body, limits)
        model = required(data, "model", str)
        max_tokens = positive_int(data, "max_tokens")
        if max_tokens is None and not counting:
            raise invalid("'max_tokens' is required", param="max_tokens")
        output = optional(data, "output_config", dict) or {}
        fmt = _output_format(output)
        return ChatRequest(
            model=model,
            messages=_messages(messages_list(data, limits)),
            system=_system(data.get("system")),
            tools=_tools(optional(data, "tools", list) or [], limits),
            tool_choice=_tool_choice(optional(data, "tool_choice", dict)),
            max_tokens=max_tokens,
            temperature=number_in(data, "temperature", 0, 1),
            top_p=number_in(data, "top_p", 0, 1),
            stop=stop_list(data.get("stop_sequences"), "stop_sequences"),
            stream=not counting and bool(optional(data, "stream", bool)),
            include_usage=True,
            response_format=fmt,
            thinking_budget=_thinking_budget(optional(data, "thinking", dict), output),
            user=str((optional(data, "metadata", dict) or {}).get("user_id") or ""),
            native=_native(data, headers or {}),
        )

    def chat_render(self, response: ChatResponse, route: RouteInfo) -> dict[str, Any]:
        return {
            "id": f"msg_{response.id}",
            "type": "message",
            "role": "assistant",
            "model": response.model,
            "content": [block for part in response.content if (block := _block(part)) is not None],
            "stop_reason": STOP[response.stop_reason],
            "stop_sequence": response.stop_sequence,
            "usage": usage_render(response.usage),
            "legion": route.as_metadata(),
        }

    def stream_renderer(self, request: ChatRequest) -> AnthropicStreamRenderer:
        return AnthropicStreamRenderer(model=request.model)

    def error_body(self, error: ProxyError) -> dict[str, Any]:
        kind = ERROR_TYPE.get(error.kind, "invalid_request_error" if error.status < 500 else "api_error")
        return {"type": "error", "error": {"type": kind, "message": error.message, "code": error.kind.value}}


class AnthropicStreamRenderer:
    """message_start, then content blocks opened and closed as the content type changes, then the end."""

    def __init__(self, *, model: str) -> None:
        self.id = f"msg_{uuid.uuid4().hex}"
        self.model = model
        self.started = False
        self.index = -1
        self.open: str | None = None  # "text" or "thinking": the block deltas currently go to

    def render(self, event: ClientEvent) -> bytes:
        if isinstance(event, TextDelta):
            return self._open("text", {"type": "text", "text": ""}) + self._delta({"type": "text_delta",
                                                                                   "text": event.text})
        if isinstance(event, ThinkingDelta):
            out = self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            if event.text:
                out += self._delta({"type": "thinking_delta", "thinking": event.text})
            if event.signature:
                out += self._delta({"type": "signature_delta", "signature": event.signature})
            return out
        if isinstance(event, ToolCall):
            return self._tool(event)
        if isinstance(event, Started):
            return self._start(event.model, event.input_tokens)
        if isinstance(event, KeepAlive):
            return KEEPALIVE
        return self._finish(event)

    def error(self, error: ProxyError) -> bytes:
        return sse_event("error", AnthropicDialect().error_body(error))

    def _start(self, model: str, input_tokens: int) -> bytes:
        self.started, self.model = True, model
        return sse_event("message_start", {"type": "message_start", "message": {
            "id": self.id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": input_tokens, "output_tokens": 0},
        }})

    def _open(self, kind: str, block: dict[str, Any]) -> bytes:
        if self.open == kind:
            return b""
        out = self._close()
        self.index += 1
        self.open = kind
        return out + sse_event("content_block_start", {"type": "content_block_start", "index": self.index,
                                                       "content_block": block})

    def _close(self) -> bytes:
        if self.open is None:
            return b""
        self.open = None
        return sse_event("content_block_stop", {"type": "content_block_stop", "index": self.index})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return sse_event("content_block_delta", {"type": "content_block_delta", "index": self.index, "delta": delta})

    def _tool(self, call: ToolCall) -> bytes:
        out = self._close()
        self.index += 1
        out += sse_event("content_block_start", {"type": "content_block_start", "index": self.index,
                                                 "content_block": {"type": "tool_use", "id": call.id,
                                                                   "name": call.name, "input": {}}})
        out += self._delta({"type": "input_json_delta", "partial_json": call.arguments})
        return out + sse_event("content_block_stop", {"type": "content_block_stop", "index": self.index})

    def _finish(self, event: Finished) -> bytes:
        out = b"" if self.started else self._start(self.model, event.usage.input_tokens)
        out += self._close()
        out += sse_event("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": STOP[event.stop_reason], "stop_sequence": event.stop_sequence},
            "usage": usage_render(event.usage),
            "legion": event.route.as_metadata(),
        })
        return out + sse_event("message_stop", {"type": "message_stop"})


def usage_render(usage: Usage) -> dict[str, int]:
    """Anthropic counts input net of the prompt cache, and the cache's reads and writes apart."""
    return {"input_tokens": usage.uncached_input_tokens, "output_tokens": usage.output_tokens,
            "cache_read_input_tokens": usage.cache_read_tokens,
            "cache_creation_input_tokens": usage.cache_creation_tokens}


def _block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ToolUsePart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": dict(part.input)}
    if isinstance(part, ThinkingPart):
        return {"type": "thinking", "thinking": part.text, "signature": part.signature}
    return None


def _native(data: Mapping[str, Any], headers: Mapping[str, str]) -> Native:
    """The allow-listed Anthropic-only fields and the `anthropic-beta` list, for Anthropic upstreams."""
    fields = {key: data[key] for key in NATIVE_FIELDS if data.get(key) is not None}
    thinking = fields.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "disabled"):
        del fields["thinking"]  # the canonical budget renders these exactly
    betas = tuple(b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip())
    # Always set, even empty: it also says the client speaks Anthropic (see the provider's system turns).
    return Native("anthropic", fields, betas, translated=TRANSLATED)


def _thinking_budget(thinking: dict[str, Any] | None, output: Mapping[str, Any]) -> int | None:
    """The canonical budget: `enabled` says it, `adaptive` takes it from `output_config.effort`."""
    if thinking is None:
        return None
    kind = required(thinking, "type", str, "thinking")
    if kind == "enabled":
        return int(required(thinking, "budget_tokens", int, "thinking"))
    if kind == "adaptive":
        effort = output.get("effort") or "high"
        if effort not in EFFORT_BUDGET:
            raise invalid(f"'output_config.effort' must be one of {', '.join(EFFORT_BUDGET)}, got '{effort}'",
                          param="output_config.effort")
        return EFFORT_BUDGET[effort]
    if kind == "disabled":
        return None
    raise invalid(f"'thinking.type' must be enabled, adaptive or disabled, got '{kind}'", param="thinking.type")


def _output_format(output: Mapping[str, Any]) -> ResponseFormat | None:
    fmt = optional(output, "format", dict, "output_config")
    if fmt is None:
        return None
    if fmt.get("type") != "json_schema":
        raise invalid("'output_config.format.type' must be json_schema", param="output_config.format.type")
    return ResponseFormat("json_schema", schema=required(fmt, "schema", dict, "output_config.format"))


def _cache(block: Mapping[str, Any], path: str) -> Cache:
    return optional(block, "cache_control", dict, path)


def _system(raw: Any) -> tuple[TextPart, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (TextPart(raw),) if raw else ()
    if isinstance(raw, list):
        blocks = []
        for index, block in enumerate(raw):
            path = f"system[{index}]"
            if not isinstance(block, dict) or block.get("type") != "text":
                raise invalid(f"'{path}' must be a text block", param=path)
            blocks.append(TextPart(required(block, "text", str, path), _cache(block, path)))
        return tuple(blocks)
    raise invalid("'system' must be a string or an array of text blocks", param="system")


def _messages(raw: list[Any]) -> tuple[Message, ...]:
    messages = []
    for index, item in enumerate(raw):
        path = f"messages[{index}]"
        if not isinstance(item, dict):
            raise invalid(f"'{path}' must be an object", param=path)
        role = required(item, "role", str, path)
        if role not in ("user", "assistant", "system"):
            raise invalid(f"'{path}.role' must be user, assistant or system, got '{role}'", param=f"{path}.role")
        content = item.get("content")
        if isinstance(content, str):
            parts: tuple[Part, ...] = (TextPart(content),)
        elif isinstance(content, list) and content:
            parts = tuple(p for i, block in enumerate(content) if (p := _part(block, f"{path}.content[{i}]")))
        else:
            raise invalid(f"'{path}.content' must be a string or a non-empty array of blocks",
                          param=f"{path}.content")
        if role == "system" and not all(isinstance(part, TextPart) for part in parts):
            raise invalid(f"'{path}.content' of a system message must be text", param=f"{path}.content")
        native = {key: item[key] for key in NATIVE_MESSAGE_FIELDS if item.get(key) is not None}
        messages.append(Message(role, parts or (TextPart(""),), native or None))
    return tuple(messages)


def _part(block: Any, path: str) -> Part | None:
    if not isinstance(block, dict):
        raise invalid(f"'{path}' must be an object", param=path)
    kind = required(block, "type", str, path)
    if kind == "text":
        return TextPart(required(block, "text", str, path), _cache(block, path))
    if kind == "image":
        return _image(required(block, "source", dict, path), f"{path}.source", _cache(block, path))
    if kind == "tool_use":
        return ToolUsePart(id=required(block, "id", str, path), name=required(block, "name", str, path),
                           input=required(block, "input", dict, path), cache=_cache(block, path))
    if kind == "tool_result":
        return ToolResultPart(
            tool_use_id=required(block, "tool_use_id", str, path),
            content=_result_content(block.get("content"), f"{path}.content"),
            is_error=bool(optional(block, "is_error", bool, path)),
            cache=_cache(block, path),
        )
    if kind == "thinking":
        return ThinkingPart(required(block, "thinking", str, path), optional(block, "signature", str, path) or "")
    if kind == "redacted_thinking":
        return None  # opaque and bound to the provider that made it; other providers could not read it anyway
    raise invalid(f"'{path}.type' '{kind}' is not supported", param=f"{path}.type")


def _image(source: dict[str, Any], path: str, cache: Cache) -> ImagePart:
    kind = required(source, "type", str, path)
    if kind == "base64":
        return ImagePart(media_type=required(source, "media_type", str, path), data=required(source, "data", str, path),
                         cache=cache)
    if kind == "url":
        return image_part(required(source, "url", str, path), f"{path}.url", cache)
    raise invalid(f"'{path}.type' must be base64 or url", param=f"{path}.type")


def _result_content(raw: Any, path: str) -> tuple[TextPart | ImagePart, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (TextPart(raw),)
    if not isinstance(raw, list):
        raise invalid(f"'{path}' must be a string or an array of blocks", param=path)
    parts: list[TextPart | ImagePart] = []
    for index, block in enumerate(raw):
        part = _part(block, f"{path}[{index}]")
        if not isinstance(part, TextPart | ImagePart):
            raise invalid(f"'{path}[{index}]' must be a text or image block", param=f"{path}[{index}]")
        parts.append(part)
    return tuple(parts)


def _tools(raw: list[Any], limits: Limits) -> tuple[Tool, ...]:
    tools_limit(raw, limits)
    tools = []
    for index, item in enumerate(raw):
        path = f"tools[{index}]"
        if not isinstance(item, dict):
            raise invalid(f"'{path}' must be an object", param=path)
        if item.get("type") not in (None, "custom"):
            raise invalid(f"'{path}.type' '{item['type']}': server tools are not supported", param=f"{path}.type")
        if "input_schema" not in item:
            raise invalid(f"'{path}.input_schema' is required", param=f"{path}.input_schema")
        tool = tool_build(item.get("name"), item.get("description"), item.get("input_schema"), path)
        native = {key: item[key] for key in NATIVE_TOOL_FIELDS if item.get(key) is not None}
        tools.append(dataclasses.replace(tool, cache=_cache(item, path), native=native or None))
    names = [tool.name for tool in tools]
    if len(set(names)) != len(names):
        raise invalid("tool names must be unique", param="tools")
    return tuple(tools)


def _tool_choice(raw: dict[str, Any] | None) -> ToolChoice:
    if raw is None:
        return ToolChoice("auto")
    kind = required(raw, "type", str, "tool_choice")
    if kind in ("auto", "none", "any"):
        return ToolChoice(kind)
    if kind == "tool":
        return ToolChoice("tool", required(raw, "name", str, "tool_choice"))
    raise invalid("'tool_choice.type' must be auto, any, tool or none", param="tool_choice.type")


def models_render(names: list[str]) -> dict[str, Any]:
    return {"data": [model_render(name) for name in names], "has_more": False,
            "first_id": names[0] if names else None, "last_id": names[-1] if names else None}


def model_render(name: str) -> dict[str, Any]:
    return {"id": name, "type": "model", "display_name": name, "created_at": "1970-01-01T00:00:00Z"}
